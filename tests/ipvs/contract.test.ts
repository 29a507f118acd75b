/**
 * The IPVS client contract (tests/support/ipvs-contract.ts) against the FakeKernel the unit tests use. The same
 * suite runs against a real kernel in tests/lab/ipvs-contract.test.ts, so the fake answers as the kernel does.
 */

import { describeIpvsContract } from "../support/ipvs-contract.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";

describeIpvsContract("FakeKernel", ({ window }) => {
  const client = new FakeKernel({ window });
  return { client, release: () => client.close() };
});
