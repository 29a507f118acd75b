/** doctor's `ha.connection_sync` check against a faked kernel and host. */

import { expect, test } from "bun:test";
import type { SyncDaemonSettings } from "../../../src/ipvs/types.ts";
import { checkConnectionSync } from "../../../src/system/doctor/connection-sync.ts";
import { configFrom, type Patch } from "../../support/load-helpers.ts";
import { fakeProbe, type FakeHost } from "./fake-probe.ts";

const SYNC_ON: Patch = { network: { frontend: { interface: "eth0", vip: "192.0.2.10" } }, vrrp: { vrid: 50 }, ha: { connection_sync: { enabled: true } } };
const ETH0 = { "/sys/class/net/eth0/ifindex": "2\n" };
const daemon = (state: "master" | "backup", patch: Partial<SyncDaemonSettings> = {}): SyncDaemonSettings => ({
  state,
  interface: "eth0",
  syncId: 50,
  group: "224.0.0.81",
  port: 8848,
  ttl: 1,
  maxLength: 1472,
  ...patch,
});

function check(host: FakeHost, patch: Patch = SYNC_ON) {
  const results = checkConnectionSync({ probe: fakeProbe({ files: ETH0, ...host }), configPath: "/etc/lbctl/config.yaml", config: configFrom(patch) });
  return results.map((r) => `${r.status} ${r.name}: ${r.message}`);
}

test("off: no line at all", () => {
  expect(check({}, {})).toEqual([]);
});

test("standby with its backup running: pass; the VIP held here wants the master too", () => {
  expect(check({ syncDaemons: [daemon("backup")] })).toEqual(["pass connection sync backup: the kernel runs the backup on eth0, sync id 50, 224.0.0.81:8848"]);
  expect(check({ syncDaemons: [daemon("backup")], addresses: ["192.0.2.10"] })).toEqual([
    "pass connection sync backup: the kernel runs the backup on eth0, sync id 50, 224.0.0.81:8848",
    "fail connection sync master: no master sync daemon in the kernel (wanted: master on eth0, sync id 50, 224.0.0.81:8848)",
  ]);
});

test("other settings, a stray master, a missing interface and an unreadable kernel each fail or warn by name", () => {
  expect(check({ syncDaemons: [daemon("backup", { syncId: 7 })] })[0]).toStartWith("fail connection sync backup: the kernel's backup sync daemon runs on eth0 with sync id 7");
  expect(check({ syncDaemons: [daemon("backup"), daemon("master")] })[1]).toStartWith("warn connection sync master: a master sync daemon runs, but this host holds no managed VIP");
  expect(check({ files: {} })).toEqual(["fail connection sync: interface eth0 does not exist: the kernel cannot send or receive sync messages"]);
  expect(check({ syncDaemons: new Error("Operation not permitted") })).toEqual(["fail connection sync: cannot list the kernel's sync daemons: Operation not permitted"]);
});

test("bgp: an announced VIP that is also an interface address fails (it could never be withdrawn); without one it passes", async () => {
  const { checkVips } = await import("../../../src/system/doctor/network.ts");
  const bgp: Patch = {
    network: { frontend: { interface: "eth0", vip: "192.0.2.10" } },
    bgp: { enabled: true, local_asn: 65001, router_id: "10.0.0.11", neighbors: [{ address: "10.0.0.1", remote_asn: 65000 }] },
  };
  const config = configFrom(bgp, [{ name: "web", ports: [80], mode: "dr", scheduler: "mh", backends: [{ address: "10.0.0.21" }] }]);
  const run = (addresses: string[]) => checkVips({ probe: fakeProbe({ addresses }), configPath: "/etc/lbctl/config.yaml", config }).map((r) => `${r.status} ${r.message}`);
  expect(run(["192.0.2.10"])[0]).toStartWith("fail announced over BGP but also an address of an interface");
  expect(run([])[0]).toStartWith("pass announced over BGP: lbctl makes it local");
});
