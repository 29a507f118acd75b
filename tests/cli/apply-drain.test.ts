/**
 * One-shot `apply --drain` (src/cli/apply.ts oneShotDrains) on the in-memory kernel: the drain is recorded in
 * state_dir between runs, `apply --drain` again deletes what ended, a plain apply deletes the rest and clears the
 * record. The daemon's drains: tests/daemon/drain.test.ts; a real kernel: tests/lab/drain.test.ts.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { oneShotDrains } from "../../src/cli/apply.ts";
import { reconcile } from "../../src/plan/reconcile.ts";
import { readDrainState } from "../../src/system/drain-state.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";
import { configFrom, service } from "../support/load-helpers.ts";

const WEB = "tcp:192.0.2.10:80";
const both = configFrom({}, [service({ backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2" }, { address: "10.0.0.3" }] })]);
const first = configFrom({}, [service({ backends: [{ address: "10.0.0.1" }] })]);

let state: string | undefined;
afterEach(() => {
  if (state) rmSync(state, { recursive: true, force: true });
  state = undefined;
});

function apply(kernel: FakeKernel, config: typeof both, timeoutMs: number) {
  const drains = oneShotDrains(state!, timeoutMs);
  const outcome = reconcile({ config, client: kernel, managedVips: new Set(["192.0.2.10"]), adjust: drains.adjust });
  expect(outcome.kind).toBe("applied");
  return { outcome, draining: drains.commit(true) };
}

describe("apply --drain without a daemon", () => {
  test("weight 0 and a record while connections last; the next apply --drain deletes what ended; a plain apply the rest", () => {
    state = mkdtempSync(join(tmpdir(), "lbctl-drain-"));
    const kernel = new FakeKernel();
    apply(kernel, both, 0);
    const set = (address: string, active: number) => (kernel.services.get(WEB)!.destinations.find((d) => d.address === address)!.activeConnections = active);
    set("10.0.0.2", 2);
    set("10.0.0.3", 1);

    const drained = apply(kernel, first, 300_000);
    expect(drained.draining.map((d) => [d.destination, d.connections])).toEqual([
      ["10.0.0.2:80", 2],
      ["10.0.0.3:80", 1],
    ]);
    expect(kernel.rules()).toContain(`-a ${WEB} -r 10.0.0.2:80 -nat -w 0`);
    expect(readDrainState(state).map((r) => r.destination)).toEqual(["10.0.0.2:80", "10.0.0.3:80"]);

    set("10.0.0.3", 0);
    const again = apply(kernel, first, 300_000);
    expect(again.outcome.plan.changes.map((c) => [c.op, c.destination, c.reason])).toEqual([["delete-destination", "10.0.0.3:80", "drain"]]);
    expect(again.draining.map((d) => d.destination)).toEqual(["10.0.0.2:80"]);

    const plain = apply(kernel, first, 0);
    expect(plain.outcome.plan.changes.map((c) => [c.op, c.destination])).toEqual([["delete-destination", "10.0.0.2:80"]]);
    expect(plain.draining).toEqual([]);
    expect(readDrainState(state)).toEqual([]);
    expect(kernel.rules()).toEqual([`-A ${WEB} -s wlc`, `-a ${WEB} -r 10.0.0.1:80 -nat -w 1`]);
  });
});
