/**
 * The IPVS client contract (tests/support/ipvs-contract.ts) against a real kernel: each test's client talks to the
 * table of a network namespace of its own. The FakeKernel passes the same suite on the host
 * (tests/ipvs/contract.test.ts). Runs inside the guest:
 *   bun tests/lab/launch.ts -- bun test tests/lab/ipvs-contract.test.ts
 */

import { describeIpvsContract } from "../support/ipvs-contract.ts";
import { IpvsNamespace } from "./support/ipvs-namespace.ts";
import { requireLab } from "./support/index.ts";

describeIpvsContract("netlink client on the lab kernel", ({ window }) => {
  requireLab();
  const namespace = IpvsNamespace.create();
  try {
    const client = namespace.ipvsClient({ window });
    return {
      client,
      release() {
        client.close();
        namespace.destroy();
      },
    };
  } catch (error) {
    namespace.destroy();
    throw error;
  }
});
