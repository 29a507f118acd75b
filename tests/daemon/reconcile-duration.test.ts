/**
 * What a reconcile's duration means: from its start to the kernel's acknowledgement of its last batch, when the
 * table is programmed. Reporting its changes (metrics, audit records) comes after, timed apart as `events`.
 */

import { describe, expect, test } from "bun:test";
import { Controller } from "../../src/daemon/controller.ts";
import type { BatchResult, IpvsOperation } from "../../src/ipvs/types.ts";
import type { DaemonEvent } from "../../src/observability/events.ts";
import { auditRecords } from "../../src/observability/audit.ts";
import { controllerRig } from "../support/controller-rig.ts";
import { FakeKernel } from "../support/fake-ipvs.ts";
import { service } from "../support/load-helpers.ts";

const KERNEL_MS = 100;
const EVENTS_MS = 40;

/** A kernel whose batches take KERNEL_MS on the test's clock. */
class SlowKernel extends FakeKernel {
  clock: { now: number } | undefined;
  override execute(operations: readonly IpvsOperation[]): BatchResult {
    if (this.clock) this.clock.now += KERNEL_MS;
    return super.execute(operations);
  }
}

function timedStart() {
  const kernel = new SlowKernel();
  const r = controllerRig([service({ ports: [80, 443], backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2" }] })], { kernel });
  kernel.clock = r.clock;
  // Sinks that take EVENTS_MS to take in a reconcile's changes.
  const events = {
    emit: (event: DaemonEvent) => {
      if (event.type === "kernel-changes") r.clock.now += EVENTS_MS;
      r.events.emit(event);
    },
  };
  Controller.start({ ...r.deps, events });
  return r;
}

describe("a reconcile's duration ends when the kernel has the table", () => {
  test("the start-up reconcile: duration_ms is the kernel work, events_ms is reported beside it, not in it", () => {
    const r = timedStart();
    try {
      expect(r.kernel.rules()).toHaveLength(6); // a positive sign the reconcile ran: 2 services × (1 + 2 destinations)
      expect(r.events.kernelChanges()).toHaveLength(6); // and its changes were reported
      const [reconcile] = r.events.ofType("reconcile");
      expect(reconcile).toMatchObject({ result: "success", trigger: "startup", changes: 6, durationMs: KERNEL_MS });
      expect(reconcile!.phases).toMatchObject({ execute: KERNEL_MS, events: EVENTS_MS });
      const summary = auditRecords(reconcile!).find((record) => record.event === "changes_applied");
      expect(summary?.fields).toMatchObject({ duration_ms: KERNEL_MS, execute_ms: KERNEL_MS, events_ms: EVENTS_MS });
    } finally {
      r.tree.remove();
    }
  });
});
