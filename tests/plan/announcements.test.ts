import { describe, expect, test } from "bun:test";
import type { KernelServiceEntry } from "../../src/ipvs/types.ts";
import { desiredServices } from "../../src/plan/desired.ts";
import { announcements } from "../../src/plan/announcements.ts";
import { configFrom, service, type Patch } from "../support/load-helpers.ts";

const MAIN: Patch = { network: { frontend: { vip: "192.0.2.10" } }, bgp: { enabled: true, local_asn: 65001, router_id: "10.0.0.11", neighbors: [{ address: "10.0.0.1", remote_asn: 65000 }] } };
const config = configFrom(MAIN, [
  service({ name: "web", mode: "dr", scheduler: "mh", ports: [80, 443], backends: [{ address: "10.0.0.21" }, { address: "10.0.0.22" }] }),
  service({ name: "dns", mode: "dr", scheduler: "mh", vip: "192.0.2.20", protocol: "udp", ports: [53], backends: [{ address: "10.0.0.31" }] }),
]);

/** The kernel as the daemon would have programmed the config, with each destination's weight from `weight`. */
function kernelWith(weight: (address: string) => number): KernelServiceEntry[] {
  return desiredServices(config).map((s) => ({
    service: { ...s, fwmark: 0 },
    destinations: s.destinations.map((d) => ({ ...d, weight: weight(d.address), activeConnections: 0, inactiveConnections: 0, persistentConnections: 0 })),
  }));
}

describe("which VIPs a director announces", () => {
  test("every service programmed with a backend of weight > 0: announced", () => {
    expect(announcements(config, ["192.0.2.10", "192.0.2.20"], kernelWith(() => 1), true)).toEqual([
      { vip: "192.0.2.10", announce: true, reason: "serving" },
      { vip: "192.0.2.20", announce: true, reason: "serving" },
    ]);
  });

  test("all backends of a VIP at weight 0 (unhealthy): that VIP is withdrawn, the other stays", () => {
    const verdicts = announcements(config, ["192.0.2.10", "192.0.2.20"], kernelWith((a) => (a === "10.0.0.31" ? 0 : 1)), true);
    expect(verdicts.map((v) => [v.vip, v.announce, v.reason])).toEqual([
      ["192.0.2.10", true, "serving"],
      ["192.0.2.20", false, "no backend with a weight above 0"],
    ]);
  });

  test("one backend left is enough", () => {
    expect(announcements(config, ["192.0.2.10"], kernelWith((a) => (a === "10.0.0.22" ? 3 : 0)), true)[0]!.announce).toBe(true);
  });

  test("a port of the VIP missing from the kernel (table not programmed), or a failed reconcile: withdrawn", () => {
    const missing443 = kernelWith(() => 1).filter((entry) => entry.service.port !== 443);
    expect(announcements(config, ["192.0.2.10"], missing443, true)[0]).toEqual({ vip: "192.0.2.10", announce: false, reason: "tcp:192.0.2.10:443 of service web is not in the kernel" });
    expect(announcements(config, ["192.0.2.10"], kernelWith(() => 1), false)[0]).toEqual({ vip: "192.0.2.10", announce: false, reason: "the last reconcile failed" });
    expect(announcements(config, ["192.0.2.99"], kernelWith(() => 1), true)[0]!.reason).toBe("no service uses this VIP");
  });
});
