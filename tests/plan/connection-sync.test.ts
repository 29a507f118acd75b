import { describe, expect, test } from "bun:test";
import type { SyncDaemonSettings } from "../../src/ipvs/types.ts";
import { connectionSyncSettings } from "../../src/config/connection-sync.ts";
import { desiredSyncDaemons, syncDaemonActions } from "../../src/plan/connection-sync.ts";
import { configFrom, loadPatched, type Patch } from "../support/load-helpers.ts";

const loadMain = (patch: Patch) => configFrom(patch).main;

const SHARED = { interface: "eth1", syncId: 7, group: "224.0.0.81", port: 8848, ttl: 1 };
const backup: SyncDaemonSettings = { ...SHARED, state: "backup" };
const master: SyncDaemonSettings = { ...SHARED, state: "master" };

describe("the settings from ha.connection_sync", () => {
  test("off: none", () => {
    expect(connectionSyncSettings(loadMain({}))).toBeUndefined();
  });

  test("defaults: the frontend interface, vrrp.vrid as the sync id, the kernel's group and port", () => {
    const main = loadMain({ network: { frontend: { interface: "eth0", vip: "192.0.2.10" } }, vrrp: { vrid: 42 }, ha: { connection_sync: { enabled: true } } });
    expect(connectionSyncSettings(main)).toEqual({ interface: "eth0", syncId: 42, group: "224.0.0.81", port: 8848, ttl: 1 });
  });

  test("without vrrp the id is 0; written keys win", () => {
    const main = loadMain({ network: { frontend: { interface: "eth0", vip: "192.0.2.10" } }, ha: { connection_sync: { enabled: true, interface: "eth1", mcast_group: "ff02::1:81", port: 9000, ttl: 2 } } });
    expect(connectionSyncSettings(main)).toEqual({ interface: "eth1", syncId: 0, group: "ff02::1:81", port: 9000, ttl: 2 });
  });
});

describe("validation of ha.connection_sync", () => {
  test("enabled without any interface: an error naming the key", () => {
    const { result, errors } = loadPatched({ ha: { connection_sync: { enabled: true } } });
    expect(result.ok).toBe(false);
    expect(errors).toContain("ha.connection_sync.interface: is required when ha.connection_sync.enabled is true");
  });

  test("a group that is not multicast, a sync id over 255: errors naming the keys", () => {
    const withFrontend = (sync: Patch) => loadPatched({ network: { frontend: { interface: "eth0" } }, ha: { connection_sync: { enabled: true, ...sync } } });
    const group = withFrontend({ mcast_group: "10.0.0.1" });
    expect(group.result.ok).toBe(false);
    expect(group.errors).toContain("ha.connection_sync.mcast_group: must be a multicast group (224.0.0.0/4 or ff00::/8), got 10.0.0.1");
    expect(withFrontend({ sync_id: 256 }).paths).toEqual(["ha.connection_sync.sync_id"]);
    expect(withFrontend({ mcast_group: "239.1.2.3", sync_id: 255 }).result.ok).toBe(true);
  });

  test("cold standby: valid, with a notice", () => {
    const { result } = loadPatched({ network: { frontend: { interface: "eth0" } }, daemon: { standby: "cold" }, ha: { connection_sync: { enabled: true } } });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.notices.map((n) => n.path)).toContain("ha.connection_sync.enabled");
  });
});

describe("the roles", () => {
  test("backup always; master too while a VIP is held; none when off", () => {
    expect(desiredSyncDaemons(SHARED, false)).toEqual([backup]);
    expect(desiredSyncDaemons(SHARED, true)).toEqual([master, backup]);
    expect(desiredSyncDaemons(undefined, true)).toEqual([]);
  });
});

describe("what to start and stop", () => {
  const none = new Set<never>();
  test("from nothing: start what is wanted", () => {
    expect(syncDaemonActions([master, backup], [], none)).toEqual({ stop: [], start: [master, backup] });
  });

  test("the VIP leaves: the master lbctl owns is stopped, the backup stays", () => {
    expect(syncDaemonActions([backup], [master, backup], new Set(["master", "backup"] as const))).toEqual({ stop: ["master"], start: [] });
  });

  test("a role running with other settings is restarted; the kernel's own fields (max length) are not compared", () => {
    const other = { ...backup, syncId: 9, maxLength: 1472 };
    expect(syncDaemonActions([backup], [other], none)).toEqual({ stop: ["backup"], start: [backup] });
    expect(syncDaemonActions([backup], [{ ...backup, maxLength: 1472 }], none)).toEqual({ stop: [], start: [] });
  });

  test("sync off: a sync daemon lbctl did not start is left alone; one it started is stopped", () => {
    expect(syncDaemonActions([], [master, backup], none)).toEqual({ stop: [], start: [] });
    expect(syncDaemonActions([], [master, backup], new Set(["backup"] as const))).toEqual({ stop: ["backup"], start: [] });
  });
});
