/**
 * Kubernetes pool addresses are managed VIPs (spec/kubernetes.md): `lbctl setup frr` puts every one of them into
 * the VRRP instance, the managed set (and so the state_dir record) holds them, and VRRP's 255-address count is
 * enforced by validation, naming the key, and again before writing FRR's config.
 */

import { describe, expect, test } from "bun:test";
import type { Config } from "../../src/config/model.ts";
import { FrrConfigError, frrBlockFor, vrrpPlan } from "../../src/system/frr/block.ts";
import { canonicalAddress } from "../../src/ipvs/address.ts";
import { configManagedVips, poolVips } from "../../src/system/managed-vips.ts";
import { configTree } from "../support/config-tree.ts";
import { runLbctl } from "../support/run-lbctl.ts";
import { testConfig } from "./support/config.ts";

const kubernetes = (pools: Array<{ name: string; addresses: string[] }>, enabled = true) => ({ enabled, kubeconfig: "/dev/null", pools });

describe("pool addresses as managed VIPs", () => {
  test("every pool address, free ones included, canonical; none while the controller is disabled", () => {
    const main = { kubernetes: kubernetes([{ name: "v4", addresses: ["192.0.2.128/30", "198.51.100.10-198.51.100.11"] }, { name: "v6", addresses: ["2001:DB8:0::a-2001:db8::b"] }]) };
    const config = testConfig({ main, services: [{ name: "web", ports: [80], vip: "192.0.2.20" }] });
    expect(poolVips(config.main)).toEqual(["192.0.2.128", "192.0.2.129", "192.0.2.130", "192.0.2.131", "198.51.100.10", "198.51.100.11", "2001:db8::a", "2001:db8::b"]);
    // The services' VIPs (not the frontend VIP: no service uses it here) and the pools.
    expect(configManagedVips(config)).toEqual(["192.0.2.128", "192.0.2.129", "192.0.2.130", "192.0.2.131", "192.0.2.20", "198.51.100.10", "198.51.100.11", "2001:db8::a", "2001:db8::b"].sort());
    const disabled = testConfig({ main: { kubernetes: kubernetes([{ name: "v4", addresses: ["192.0.2.128/30"] }], false) }, services: [{ name: "web", ports: [80], vip: "192.0.2.20" }] });
    expect(poolVips(disabled.main)).toEqual([]);
    expect(configManagedVips(disabled)).toEqual(["192.0.2.20"]);
  });

  test("IPv6 pool addresses are written as lbctl compares addresses (RFC 5952), across a carry past the low 32 bits", () => {
    const ranges = ["::-::3", "1:0:0:1::-1:0:0:1::2", "2001:db8::ffff:fffe-2001:db8::1:0:1", "0:0:1:0:0:1:0:fffe-0:0:1:0:0:1:1:0"];
    const main = { kubernetes: { enabled: true, pools: ranges.map((r, i) => ({ name: `p${i}`, addresses: [r] })) } } as Parameters<typeof poolVips>[0];
    const vips = poolVips(main);
    expect(vips).toEqual([
      "::", "::1", "::2", "::3",
      "1:0:0:1::", "1:0:0:1::1", "1:0:0:1::2",
      "2001:db8::ffff:fffe", "2001:db8::ffff:ffff", "2001:db8::1:0:0", "2001:db8::1:0:1",
      "::1:0:0:1:0:fffe", "::1:0:0:1:0:ffff", "::1:0:0:1:1:0",
    ]);
    for (const vip of vips) expect(canonicalAddress(vip)).toBe(vip);
  });

  test("setup frr's VRRP instance carries the pool addresses beside the file VIPs", () => {
    const config = testConfig({
      main: { vrrp: { vrid: 51 }, kubernetes: kubernetes([{ name: "default", addresses: ["192.0.2.128/31"] }, { name: "v6", addresses: ["2001:db8::10-2001:db8::11"] }]) },
      services: [{ name: "web", ports: [80], vip: "192.0.2.20" }],
    });
    const block = frrBlockFor(config) ?? "";
    const addresses = block.split("\n").filter((line) => / vrrp 51 ipv?6? /.test(line));
    expect(addresses).toEqual([
      " vrrp 51 ip 192.0.2.10",
      " vrrp 51 ip 192.0.2.128",
      " vrrp 51 ip 192.0.2.129",
      " vrrp 51 ip 192.0.2.20",
      " vrrp 51 ipv6 2001:db8::10",
      " vrrp 51 ipv6 2001:db8::11",
    ]);
  });

  test("more than 255 addresses of a family in one instance: setup frr refuses, naming kubernetes.pools", () => {
    const config = testConfig({ main: { vrrp: { vrid: 51 }, kubernetes: kubernetes([{ name: "default", addresses: ["10.10.0.0-10.10.0.253"] }]) } });
    expect(vrrpPlan(config)?.ipv4).toHaveLength(255);
    // A config past validation's limit (as a hand-made Config could be): the plan itself refuses it.
    const grown: Config = { ...config, main: { ...config.main, kubernetes: { ...config.main.kubernetes, pools: [{ name: "default", addresses: ["10.10.0.0-10.10.0.254"] }] } } };
    expect(() => vrrpPlan(grown)).toThrow(FrrConfigError);
    expect(() => vrrpPlan(grown)).toThrow("vrrp.vrid 51 would carry 256 IPv4 addresses (VIPs and kubernetes.pools); one VRRP instance carries at most 255");
  });
});

describe("the CLI", () => {
  function tree(pool: string) {
    const t = configTree();
    t.write(
      "config.yaml",
      [
        "node: { name: lb-a }",
        "network:",
        "  frontend: { interface: lo, vip: 192.0.2.10, cidr: 24 }",
        "vrrp: { vrid: 5 }",
        "system:",
        `  frr_config: ${t.path("frr/frr.conf")}`,
        `  state_dir: ${t.path("state")}`,
        "kubernetes:",
        "  enabled: true",
        "  kubeconfig: /dev/null",
        `  pools: [{ name: default, addresses: ["${pool}"] }]`,
        "",
      ].join("\n"),
    );
    t.write("frr/daemons", "vrrpd=yes\n");
    return t;
  }

  test("lbctl setup frr --dry-run shows a line per pool address", async () => {
    const t = tree("192.0.2.128/30");
    try {
      const run = await runLbctl(["setup", "frr", "--dry-run", "--config", t.main]);
      for (const address of ["192.0.2.10", "192.0.2.128", "192.0.2.129", "192.0.2.130", "192.0.2.131"]) expect(run.stdout).toContain(`+ vrrp 5 ip ${address}\n`);
    } finally {
      t.remove();
    }
  });

  test("lbctl validate refuses a VRRP-carried pool of 255 addresses plus the frontend VIP, naming the key", async () => {
    const t = tree("10.10.0.0-10.10.0.254");
    try {
      const run = await runLbctl(["validate", "--config", t.main]);
      expect(run.exitCode).not.toBe(0);
      expect(`${run.stdout}${run.stderr}`).toContain("kubernetes.pools");
      expect(`${run.stdout}${run.stderr}`).toContain("carries at most 255 addresses (the protocol's count field)");
      const setup = await runLbctl(["setup", "frr", "--dry-run", "--config", t.main]);
      expect(setup.exitCode).not.toBe(0);
      expect(`${setup.stdout}${setup.stderr}`).toContain("kubernetes.pools");
    } finally {
      t.remove();
    }
  });
});
