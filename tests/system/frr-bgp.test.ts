/** The BGP part of the FRR managed block: sessions, the announcement policy, passwords, and VRRP beside it. */

import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { frrBlockFor, FrrConfigError, readBgpPassword } from "../../src/system/frr/block.ts";
import { maskPasswords } from "../../src/system/frr/bgp.ts";
import { configFrom, loadPatched, service, type Patch } from "../support/load-helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "lbctl-bgp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BGP: Patch = {
  node: { name: "lb-1" },
  network: { frontend: { interface: "eth0", vip: "192.0.2.10" } },
  bgp: { enabled: true, local_asn: 65001, router_id: "10.0.0.11", neighbors: [{ address: "10.0.0.1", remote_asn: 65000, bfd: true }], communities: ["65001:100"] },
};
const DR = (patch: Patch = {}) => service({ mode: "dr", scheduler: "mh", ...patch });

const GOLDEN = `! BEGIN LBCTL MANAGED - DO NOT EDIT
! Written by \`lbctl setup frr\` for node lb-1 (role primary); edit the lbctl config and rerun it.
router bgp 65001
 bgp router-id 10.0.0.11
 timers bgp 3 9
 neighbor 10.0.0.1 remote-as 65000
 neighbor 10.0.0.1 bfd
 address-family ipv4 unicast
  redistribute kernel route-map LBCTL-ANNOUNCE-V4
  neighbor 10.0.0.1 route-map LBCTL-ANNOUNCE-V4 out
 exit-address-family
exit
ip prefix-list LBCTL-ANNOUNCE-V4 seq 5 permit 192.0.2.10/32
ip prefix-list LBCTL-ANNOUNCE-V4 seq 10 permit 192.0.2.20/32
route-map LBCTL-ANNOUNCE-V4 permit 10
 match ip address prefix-list LBCTL-ANNOUNCE-V4
 set community 65001:100 additive
exit
ipv6 prefix-list LBCTL-ANNOUNCE-V6 seq 5 deny any
route-map LBCTL-ANNOUNCE-V6 permit 10
 match ipv6 address prefix-list LBCTL-ANNOUNCE-V6
 set community 65001:100 additive
exit
! END LBCTL MANAGED
`;

describe("the BGP block", () => {
  test("sessions, timers, BFD, and a policy that lets out only the announced VIPs", () => {
    const config = configFrom(BGP, [DR({ name: "web" }), DR({ name: "dns", vip: "192.0.2.20", protocol: "udp", ports: [53] })]);
    expect(frrBlockFor({ ...config, mainFile: "/etc/lbctl/config.yaml" })).toBe(GOLDEN);
  });

  test("VRRP and BGP in one block: VRRP carries only the VIPs BGP does not announce", () => {
    const config = configFrom({ ...BGP, vrrp: { vrid: 50 }, bgp: { ...(BGP.bgp as Patch), announce: ["192.0.2.20"] } }, [
      service({ name: "web" }),
      DR({ name: "dns", vip: "192.0.2.20", protocol: "udp", ports: [53] }),
    ]);
    const block = frrBlockFor({ ...config, mainFile: "/etc/lbctl/config.yaml" })!;
    expect(block).toContain(" vrrp 50 ip 192.0.2.10\n");
    expect(block).not.toContain("vrrp 50 ip 192.0.2.20");
    expect(block).toContain("ip prefix-list LBCTL-ANNOUNCE-V4 seq 5 permit 192.0.2.20/32\n");
    expect(block).not.toContain("permit 192.0.2.10/32");
  });

  test("a password file: written into the block, masked in what is printed; a bad file is a clear error", () => {
    const file = join(dir, "peer.pw");
    writeFileSync(file, "s3cret-Pw\n");
    chmodSync(file, 0o600);
    const withPassword = { ...BGP, bgp: { ...(BGP.bgp as Patch), neighbors: [{ address: "10.0.0.1", remote_asn: 65000, password_file: file }] } };
    const block = frrBlockFor({ ...configFrom(withPassword, [DR()]), mainFile: "/etc/lbctl/config.yaml" })!;
    expect(block).toContain(" neighbor 10.0.0.1 password s3cret-Pw\n");
    expect(maskPasswords(block)).toContain(" neighbor 10.0.0.1 password ********\n");
    expect(maskPasswords(block)).not.toContain("s3cret");
    writeFileSync(file, "two words\n");
    expect(() => readBgpPassword(file)).toThrow(FrrConfigError);
    expect(() => readBgpPassword(join(dir, "missing"))).toThrow(`cannot read the BGP password file ${join(dir, "missing")}`);
  });
});

describe("validation of bgp", () => {
  test("an announced nat service is refused with the reason; a scheduler other than mh gets a notice", () => {
    const nat = loadPatched(BGP, [service({ name: "web" })]);
    expect(nat.result.ok).toBe(false);
    expect(nat.errors).toContain('services[0].mode: service "web" is announced over BGP (bgp.enabled) and uses nat');
    const wlc = loadPatched(BGP, [service({ name: "web", mode: "dr" })]);
    expect(wlc.result.ok).toBe(true);
    if (wlc.result.ok) expect(wlc.result.notices.map((n) => n.path)).toContain("services[0].scheduler");
  });

  test("missing ASN, router id and neighbours; a bad community; a short hold time; a VIP of no service", () => {
    const bare = loadPatched({ bgp: { enabled: true } }, [DR()]);
    expect(bare.paths.sort()).toEqual(["bgp.local_asn", "bgp.neighbors", "bgp.router_id"]);
    const bad = loadPatched({ ...BGP, bgp: { ...(BGP.bgp as Patch), communities: ["65001:70000"], keepalive_seconds: 5, hold_seconds: 10, announce: ["192.0.2.99"] } }, [DR()]);
    expect(bad.paths.sort()).toEqual(["bgp.announce[0]", "bgp.communities[0]", "bgp.hold_seconds"]);
  });

  test("cold standby is refused with bgp: announced VIPs are never addresses, so cold would keep them out", () => {
    expect(loadPatched({ ...BGP, daemon: { standby: "cold" } }, [DR()]).paths).toEqual(["daemon.standby"]);
  });

  test("vrrp with every VIP announced is refused: a VIP is held by one director or announced by all", () => {
    const both = loadPatched({ ...BGP, vrrp: { vrid: 50 } }, [DR()]);
    expect(both.paths).toEqual(["bgp.announce"]);
  });
});
