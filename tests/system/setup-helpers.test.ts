/** Diffs for --dry-run, rotated backups (last 5), the macvlan FRR's VRRP needs, and the shipped files. */

import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseIpJson } from "../../src/system/frr/links.ts";
import { macvlanPlan, shellCommand, virtualMac } from "../../src/system/frr/macvlan.ts";
import { writeBackup } from "../../src/system/setup/backups.ts";
import { unifiedDiff } from "../../src/system/setup/diff.ts";
import { planShippedFiles, writeShippedFiles } from "../../src/system/shipped-files.ts";

describe("unifiedDiff", () => {
  test("equal texts: empty; a new file: all additions from /dev/null", () => {
    expect(unifiedDiff("f", "a\n", "a\n")).toBe("");
    expect(unifiedDiff("/etc/x", undefined, "a\nb\n")).toBe("--- /dev/null\n+++ /etc/x\n@@ -0,0 +1,2 @@\n+a\n+b\n");
  });

  test("one changed line with three lines of context", () => {
    const before = "1\n2\n3\n4\n5\n6\n7\n8\n";
    const after = "1\n2\n3\n4\nfive\n6\n7\n8\n";
    expect(unifiedDiff("f", before, after)).toBe("--- f\n+++ f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
  });
});

describe("writeBackup", () => {
  test("keeps the newest five", () => {
    const dir = mkdtempSync(join(tmpdir(), "lbctl-backups-"));
    try {
      for (let i = 0; i < 7; i++) writeBackup("/etc/frr/frr.conf", `v${i}`, dir, new Date(Date.UTC(2025, 0, 1, 0, 0, i)));
      const left = readdirSync(dir).sort();
      expect(left).toHaveLength(5);
      expect(readFileSync(join(dir, left[0]!), "utf8")).toBe("v2");
      expect(readFileSync(join(dir, left[4]!), "utf8")).toBe("v6");
      expect(left[4]).toBe("frr.conf.20250101T000006000Z");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const plan = { interface: "eth0", vrid: 50, priority: 150, advertIntervalMs: 200, ipv4: ["192.0.2.10"], ipv6: [] };

describe("macvlanPlan", () => {
  test("virtual MACs per family", () => {
    expect(virtualMac(4, 5)).toBe("00:00:5e:00:01:05");
    expect(virtualMac(6, 255)).toBe("00:00:5e:00:02:ff");
  });

  test("nothing there: the exact ip commands, named after the parent's ifindex", () => {
    const links = parseIpJson(JSON.stringify([{ ifindex: 3, ifname: "eth0", flags: ["UP", "LOWER_UP"], address: "52:54:00:00:00:01", addr_info: [{ family: "inet", local: "10.0.0.1", prefixlen: 24 }] }]));
    const [v4] = macvlanPlan(plan, links, "192.0.2.10", 24);
    expect(v4!.commands.map(shellCommand)).toEqual([
      "ip link add vrrp4-3-50 link eth0 type macvlan mode bridge",
      "ip link set dev vrrp4-3-50 address 00:00:5e:00:01:32",
      "ip addr add 192.0.2.10/24 dev vrrp4-3-50",
      "ip link set dev vrrp4-3-50 up",
    ]);
  });

  test("a correct macvlan: no problems; private mode and the VIP on the parent are named", () => {
    const good = [
      { ifindex: 3, ifname: "eth0", flags: ["UP", "LOWER_UP"], address: "52:54:00:00:00:01", addr_info: [] },
      { ifindex: 9, ifname: "vip0", link: "eth0", flags: ["UP", "LOWER_UP"], address: "00:00:5E:00:01:32", linkinfo: { info_kind: "macvlan", info_data: { mode: "bridge" } }, addr_info: [{ local: "192.0.2.10", prefixlen: 32 }] },
    ];
    expect(macvlanPlan(plan, parseIpJson(JSON.stringify(good)), "192.0.2.10", undefined)[0]!.problems).toEqual([]);
    const bad = structuredClone(good);
    bad[1]!.linkinfo!.info_data.mode = "private";
    bad[0]!.addr_info = [{ local: "192.0.2.10", prefixlen: 32 }] as never;
    const problems = macvlanPlan(plan, parseIpJson(JSON.stringify(bad)), "192.0.2.10", undefined)[0]!.problems;
    expect(problems.join("\n")).toContain("mode private, FRR needs bridge");
    expect(problems.join("\n")).toContain("VIP 192.0.2.10 is on eth0 itself");
  });
});

describe("shipped files", () => {
  test("created once; config kept when the operator changed it; the unit replaced when it differs", () => {
    const root = mkdtempSync(join(tmpdir(), "lbctl-shipped-"));
    try {
      expect(writeShippedFiles(root).every((o) => o.action === "created")).toBe(true);
      expect(readFileSync(join(root, "etc/lbctl/config.yaml"), "utf8")).toBe(readFileSync(join(import.meta.dir, "../../dist/config.yaml.example"), "utf8"));
      expect(readdirSync(join(root, "etc/lbctl/config.d"))).toEqual([]);
      writeFileSync(join(root, "etc/lbctl/config.yaml"), "mine");
      writeFileSync(join(root, "etc/systemd/system/lbctl.service"), "old unit");
      const read = (p: string) => { try { return readFileSync(p, "utf8"); } catch { return undefined; } };
      const plan = Object.fromEntries(planShippedFiles(root, read).map((o) => [o.path.slice(root.length), o.action]));
      expect(plan).toMatchObject({ "/etc/lbctl/config.yaml": "kept", "/etc/systemd/system/lbctl.service": "updated", "/etc/modules-load.d/lbctl.conf": "unchanged" });
      writeShippedFiles(root);
      expect(readFileSync(join(root, "etc/lbctl/config.yaml"), "utf8")).toBe("mine");
      mkdirSync(join(root, "x"));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
