/**
 * `lbctl setup frr --dry-run` exits as the real run would: 1 while the macvlan FRR's VRRP needs is missing (the
 * real run writes the block, then exits 1 naming the fix), 0 with `--macvlan` when the commands can fix it, 1 when
 * nothing can (the interface does not exist); and it writes nothing and creates no link. On the host: it only
 * reads links (`ip -json address show`), using `lo`, which every host has and which never carries a macvlan.
 */

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { configTree } from "../support/config-tree.ts";
import { runLbctl } from "../support/run-lbctl.ts";

function links(): string {
  return Bun.spawnSync(["ip", "-brief", "link"]).stdout.toString();
}

async function dryRun(iface: string, extra: string[] = []) {
  const tree = configTree();
  try {
    tree.write(
      "config.yaml",
      `node: { name: lb-a }\nnetwork:\n  frontend: { interface: ${iface}, vip: 192.0.2.10, cidr: 24 }\nvrrp: { vrid: 5 }\nsystem:\n  frr_config: ${tree.path("frr/frr.conf")}\n  state_dir: ${tree.path("state")}\n`,
    );
    tree.write("frr/daemons", "vrrpd=yes\n");
    const linksBefore = links();
    const run = await runLbctl(["setup", "frr", "--dry-run", ...extra, "--config", tree.main]);
    expect(readdirSync(tree.path("frr"))).toEqual(["daemons"]);
    expect(existsSync(tree.path("state"))).toBe(false);
    expect(links()).toBe(linksBefore);
    return run;
  } finally {
    tree.remove();
  }
}

describe("lbctl setup frr --dry-run", () => {
  test("exits 1 while the macvlan is missing, printing the block it would write and the fix", async () => {
    const run = await dryRun("lo");
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("+ vrrp 5 ip 192.0.2.10");
    expect(run.stdout).toContain("macvlan: no macvlan with MAC 00:00:5e:00:01:05 on lo");
    expect(run.stdout).toMatch(/to fix it: ip link add vrrp4-\d+-5 link lo type macvlan mode bridge && .* \(or rerun with --macvlan\)/);
  });

  test("with --macvlan exits 0 and lists the commands it would run", async () => {
    const run = await dryRun("lo", ["--macvlan"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/would run: ip link add vrrp4-\d+-5 link lo type macvlan mode bridge/);
    expect(run.stdout).toContain("would run: ip addr add 192.0.2.10/24 dev vrrp4-");
  });

  test("exits 1 when no command can fix it: the VRRP interface does not exist, even with --macvlan", async () => {
    const run = await dryRun("nosuchif0", ["--macvlan"]);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("macvlan: interface nosuchif0 (network.frontend.interface) does not exist");
  });
});
