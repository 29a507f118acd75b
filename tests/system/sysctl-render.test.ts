/** The sysctl profile file, the ip_vs modprobe options and the modules-load list: golden text and the rules behind it. */

import { describe, expect, test } from "bun:test";
import { CONN_TAB_BITS, SYSCTL_SETTINGS } from "../../src/system/sysctl/profiles.ts";
import { parseConnTabBits, renderModprobeFile, renderModulesLoadFile, renderSysctlFile } from "../../src/system/sysctl/render.ts";
import { testConfig } from "./support/config.ts";

const everyKey = () => true;

const GOLDEN_MINIMAL_NAT = `# Written by \`lbctl setup sysctl\`: do not edit, change system.tuning_profile and rerun it.
# Tuning profile: minimal. The reason for each key: docs/install.md, "Tuning profiles".

# NAT: the backends' replies cross this director on their way back to the clients; without forwarding they are dropped
net.ipv4.ip_forward = 1

# NAT: keeps netfilter connection tracking entries for IPVS connections, so SNAT/masquerade and stateful firewall rules (ct state) see them instead of dropping them as invalid
net.ipv4.vs.conntrack = 1

# when a backend is deleted, its connections are expired at their next packet so clients reconnect at once; with 0 their packets are dropped silently until the entry times out (up to 15 minutes for TCP)
net.ipv4.vs.expire_nodest_conn = 1

# persistent services: a drained backend (weight 0) stops getting new clients through persistence templates too; with 0 a client keeps being sent to it for the whole persistence timeout
net.ipv4.vs.expire_quiescent_template = 1

# NAT with vs.conntrack: matches IPVS's own 900 s TCP timeout; the netfilter default (5 days) keeps entries of dead connections and fills the table
net.netfilter.nf_conntrack_tcp_timeout_established = 900
`;

describe("sysctl file", () => {
  test("minimal profile with NAT: golden text", () => {
    const config = testConfig({ main: { system: { tuning_profile: "minimal" } }, services: [{ name: "web", ports: [80] }] });
    expect(renderSysctlFile(config, everyKey).text).toBe(GOLDEN_MINIMAL_NAT);
  });

  test("never conn_tab_bits, never vs.timeout_* (neither is a sysctl)", () => {
    for (const profile of ["minimal", "balanced", "aggressive"]) {
      const text = renderSysctlFile(testConfig({ main: { system: { tuning_profile: profile } }, services: [{ name: "w", ports: [1] }] }), everyKey).text;
      expect(text).not.toContain("conn_tab_bits");
      expect(text).not.toContain("vs.timeout");
    }
  });

  test("DR only: no forwarding, no conntrack keys; the expire_* keys stay", () => {
    const config = testConfig({ main: { mode: "dr" }, services: [{ name: "web", ports: [80] }] });
    const keys = renderSysctlFile(config, everyKey).settings.map((s) => s.key);
    expect(keys).toEqual(["net.ipv4.vs.expire_nodest_conn", "net.ipv4.vs.expire_quiescent_template", "net.core.netdev_max_backlog"]);
  });

  test("bgp.enabled adds sloppy_tcp and sloppy_sctp whatever the profile; without it they are never written", () => {
    const services = [{ name: "web", ports: [80], mode: "dr" }];
    const bgp = { enabled: true, local_asn: 65001, router_id: "10.0.0.11", neighbors: [{ address: "10.0.0.1", remote_asn: 65000 }] };
    for (const tuning_profile of ["minimal", "balanced", "aggressive"]) {
      const keys = renderSysctlFile(testConfig({ main: { mode: "dr", bgp, system: { tuning_profile } }, services }), everyKey).settings.map((s) => s.key);
      expect(keys).toEqual(expect.arrayContaining(["net.ipv4.vs.sloppy_tcp", "net.ipv4.vs.sloppy_sctp"]));
    }
    const without = renderSysctlFile(testConfig({ main: { mode: "dr" }, services }), everyKey).settings.map((s) => s.key);
    expect(without.filter((key) => key.includes("sloppy"))).toEqual([]);
  });

  test("IPv6 NAT asks for IPv6 forwarding and not IPv4's", () => {
    const config = testConfig({ services: [{ name: "v6", ports: [80], vip: "2001:db8::1" }] });
    const keys = renderSysctlFile(config, everyKey).settings.map((s) => s.key);
    expect(keys).toContain("net.ipv6.conf.all.forwarding");
    expect(keys).not.toContain("net.ipv4.ip_forward");
  });

  test("keys the kernel lacks are left out and named in a comment", () => {
    const config = testConfig({ services: [{ name: "web", ports: [80] }] });
    const file = renderSysctlFile(config, (key) => !key.startsWith("net.netfilter."));
    expect(file.missing).toEqual(["net.netfilter.nf_conntrack_tcp_timeout_established", "net.netfilter.nf_conntrack_max"]);
    expect(file.text).not.toMatch(/^net\.netfilter/m);
    expect(file.text).toContain("# Not on this kernel, so left out: net.netfilter.nf_conntrack_tcp_timeout_established, net.netfilter.nf_conntrack_max\n");
  });

  test("every setting has a reason and a value for at least one profile", () => {
    for (const setting of SYSCTL_SETTINGS) {
      expect(setting.reason.length).toBeGreaterThan(30);
      expect(Object.values(setting.values).some((v) => v !== undefined)).toBe(true);
    }
  });
});

describe("module files", () => {
  test("conn_tab_bits is an ip_vs module option, per profile", () => {
    expect(renderModprobeFile("balanced")).toContain("\noptions ip_vs conn_tab_bits=18\n");
    expect(parseConnTabBits(renderModprobeFile("aggressive"))).toBe(20);
    expect(parseConnTabBits(renderModprobeFile("minimal"))).toBe(CONN_TAB_BITS.minimal);
    expect(parseConnTabBits("options ip_vs foo=1 conn_tab_bits=15\n")).toBe(15);
    expect(parseConnTabBits("# options ip_vs conn_tab_bits=15\n")).toBeUndefined();
  });

  test("modules-load lists ip_vs and each configured scheduler once, sorted", () => {
    const config = testConfig({
      services: [
        { name: "a", ports: [1], scheduler: "wrr" },
        { name: "b", ports: [2], scheduler: "mh" },
        { name: "c", ports: [3], scheduler: "wrr" },
      ],
    });
    expect(renderModulesLoadFile(config).split("\n").filter((l) => l && !l.startsWith("#"))).toEqual(["ip_vs", "ip_vs_mh", "ip_vs_wrr"]);
  });
});
