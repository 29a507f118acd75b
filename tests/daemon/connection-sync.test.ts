import { describe, expect, test } from "bun:test";
import type { SyncDaemonKernel, SyncDaemonSettings, SyncDaemonState } from "../../src/ipvs/types.ts";
import { auditSink, type AuditRecord } from "../../src/observability/audit.ts";
import type { DaemonEvent } from "../../src/observability/events.ts";
import { ConnectionSync } from "../../src/daemon/connection-sync.ts";
import { configFrom, type Patch } from "../support/load-helpers.ts";

/** The kernel's sync daemons as the netlink client reports them; a start of a running role fails as the kernel's does. */
class FakeSyncKernel implements SyncDaemonKernel {
  running: SyncDaemonSettings[] = [];
  calls: string[] = [];
  failStart: string | undefined;
  startSyncDaemon(settings: SyncDaemonSettings): void {
    this.calls.push(`start ${settings.state}`);
    if (this.failStart) throw new Error(this.failStart);
    if (this.running.some((r) => r.state === settings.state)) throw new Error("File exists");
    this.running.push({ ...settings, maxLength: 1472 });
  }
  stopSyncDaemon(state: SyncDaemonState): void {
    this.calls.push(`stop ${state}`);
    this.running = this.running.filter((r) => r.state !== state);
  }
  listSyncDaemons(): SyncDaemonSettings[] {
    return this.running.map((r) => ({ ...r }));
  }
}

const SYNC_ON: Patch = { network: { frontend: { interface: "eth0", vip: "192.0.2.10" } }, vrrp: { vrid: 50 }, ha: { connection_sync: { enabled: true } } };
const mainOf = (patch: Patch) => configFrom(patch).main;

function setUp() {
  const kernel = new FakeSyncKernel();
  const events: DaemonEvent[] = [];
  const audit: AuditRecord[] = [];
  const toAudit = auditSink((record) => audit.push(record));
  const sync = new ConnectionSync(kernel, { emit: (event) => (events.push(event), toAudit.emit(event)) });
  return { kernel, events, audit, sync };
}

const roles = (kernel: FakeSyncKernel) => kernel.running.map((r) => r.state).sort();

describe("connection sync follows the VIPs", () => {
  test("standby: backup only; the VIP arrives: master too; it leaves: master stopped; each audited with its reason", () => {
    const { kernel, audit, sync } = setUp();
    const main = mainOf(SYNC_ON);
    sync.follow(main, false);
    expect(roles(kernel)).toEqual(["backup"]);
    expect(kernel.running[0]).toMatchObject({ interface: "eth0", syncId: 50, group: "224.0.0.81", port: 8848 });
    sync.follow(main, true);
    expect(roles(kernel)).toEqual(["backup", "master"]);
    expect(sync.status()).toEqual({ enabled: true, interface: "eth0", sync_id: 50, master: true, backup: true });
    sync.follow(main, true);
    expect(kernel.calls).toEqual(["start backup", "start master"]);
    sync.follow(main, false);
    expect(roles(kernel)).toEqual(["backup"]);
    expect(audit.map((r) => [r.event, r.fields.role, r.fields.reason])).toEqual([
      ["connection_sync_started", "backup", "enabled"],
      ["connection_sync_started", "master", "VIP held"],
      ["connection_sync_stopped", "master", "VIP released"],
    ]);
  });

  test("a role stopped by hand is started again at the next reconcile; one with other settings is replaced", () => {
    const { kernel, audit, sync } = setUp();
    const main = mainOf(SYNC_ON);
    sync.follow(main, true);
    kernel.running = kernel.running.filter((r) => r.state !== "master");
    sync.follow(main, true);
    expect(roles(kernel)).toEqual(["backup", "master"]);
    expect(audit.at(-1)).toMatchObject({ event: "connection_sync_started", fields: { role: "master", reason: "found stopped" } });
    sync.follow(mainOf({ ...SYNC_ON, ha: { connection_sync: { enabled: true, sync_id: 9 } } }), true);
    expect(kernel.running.map((r) => r.syncId)).toEqual([9, 9]);
    expect(audit.filter((r) => r.fields.reason === "settings changed").map((r) => r.event)).toEqual([
      "connection_sync_stopped",
      "connection_sync_stopped",
      "connection_sync_started",
      "connection_sync_started",
    ]);
  });

  test("a restarted daemon adopts matching sync daemons without restarting them, and stops them when the key is turned off", () => {
    const { kernel, sync } = setUp();
    kernel.running = [
      { state: "master", interface: "eth0", syncId: 50, group: "224.0.0.81", port: 8848, ttl: 1, maxLength: 1472 },
      { state: "backup", interface: "eth0", syncId: 50, group: "224.0.0.81", port: 8848, ttl: 1, maxLength: 1472 },
    ];
    sync.follow(mainOf(SYNC_ON), true);
    expect(kernel.calls).toEqual([]);
    expect(sync.status()).toMatchObject({ master: true, backup: true });
    sync.follow(mainOf({}), true);
    expect(kernel.calls.sort()).toEqual(["stop backup", "stop master"]);
    expect(sync.status()).toBeUndefined();
  });

  test("off and never on: the kernel is not even read, and someone else's sync daemon stays", () => {
    const { kernel, events, sync } = setUp();
    const foreign: SyncDaemonSettings = { state: "master", interface: "eth9", syncId: 1 };
    kernel.running = [foreign];
    let reads = 0;
    const list = kernel.listSyncDaemons.bind(kernel);
    kernel.listSyncDaemons = () => (reads++, list());
    sync.follow(mainOf({}), true);
    sync.follow(mainOf({}), false);
    // The positive sign that follow runs and reads the kernel: the same object, once the key is on.
    const probe = setUp();
    probe.sync.follow(mainOf(SYNC_ON), false);
    expect(probe.kernel.calls).toEqual(["start backup"]);
    expect(reads).toBe(0);
    expect(kernel.running).toEqual([foreign]);
    expect(sync.status()).toBeUndefined();
    // Turned on, then off again: lbctl stops what it started, then stops reading.
    sync.follow(mainOf(SYNC_ON), false);
    sync.follow(mainOf({}), false);
    expect(kernel.calls).toEqual(["start backup", "stop backup"]);
    const afterOff = reads;
    sync.follow(mainOf({}), false);
    expect(reads).toBe(afterOff);
    expect(kernel.running).toEqual([foreign]);
    expect(events.filter((e) => e.type === "error")).toEqual([]);
  });

  test("a failing start (no such interface) is one error while it lasts, retried every reconcile, and shown in status", () => {
    const { kernel, events, sync } = setUp();
    kernel.failStart = "No such device (ENODEV)";
    const main = mainOf(SYNC_ON);
    for (let i = 0; i < 5; i++) sync.follow(main, false);
    expect(kernel.calls).toEqual(Array(5).fill("start backup"));
    expect(events.filter((e) => e.type === "error")).toEqual([{ type: "error", message: "Connection sync: No such device (ENODEV)" }]);
    expect(sync.status()).toMatchObject({ backup: false, error: "Connection sync: No such device (ENODEV)" });
    kernel.failStart = undefined;
    sync.follow(main, false);
    expect(sync.status()).toEqual({ enabled: true, interface: "eth0", sync_id: 50, master: false, backup: true });
  });

  test("a kernel client without sync daemons (the test-only memory kernel): one clear error", () => {
    const events: DaemonEvent[] = [];
    const sync = new ConnectionSync(undefined, { emit: (event) => events.push(event) });
    sync.follow(mainOf(SYNC_ON), true);
    sync.follow(mainOf(SYNC_ON), true);
    expect(events).toEqual([{ type: "error", message: "connection sync needs the kernel's IPVS through netlink, which this daemon does not use" }]);
  });
});
