/**
 * `lbctl setup frr --dry-run` gives the exit code of the real run, in a namespace whose VRRP interface first lacks
 * the macvlan FRR's VRRP needs, then has it: 1 and 1 without it, 0 and 0 with `--macvlan` (the real run creating
 * it), 0 and 0 once it is there. The dry runs change no link and write no file.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { lbctlCommandLine } from "../support/run-lbctl.ts";
import { requireLab, run, runQuietly } from "./support/index.ts";

const NS = "lbfrrdry";
const VRID = 7;
const MAC = "00:00:5e:00:01:07";
let dir = "";

async function setupFrr(args: string[]) {
  const proc = Bun.spawn(["ip", "netns", "exec", NS, ...lbctlCommandLine(), "setup", "frr", ...args, "--config", join(dir, "config.yaml")], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, exitCode };
}

const links = () => run(["ip", "-n", NS, "-d", "-br", "link", "show"]);
const hasMacvlan = () => links().includes(MAC);

beforeAll(() => {
  requireLab();
  dir = mkdtempSync("/tmp/lbctl-frr-dry-");
  run(["ip", "netns", "add", NS]);
  run(["ip", "-n", NS, "link", "add", "eth0", "type", "dummy"]);
  run(["ip", "-n", NS, "link", "set", "eth0", "up"]);
  writeFileSync(
    join(dir, "config.yaml"),
    stringify({
      node: { name: "lb-a" },
      network: { frontend: { interface: "eth0", vip: "10.211.0.100", cidr: 24 } },
      vrrp: { vrid: VRID },
      system: { state_dir: join(dir, "state"), frr_config: join(dir, "frr.conf") },
    }),
  );
});

afterAll(() => {
  runQuietly(["ip", "netns", "del", NS]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("lbctl setup frr --dry-run exits as the real run", () => {
  test("without the macvlan: both exit 1; --macvlan: both exit 0; then both exit 0", async () => {
    const before = links();
    const dry = await setupFrr(["--dry-run"]);
    expect(dry.exitCode, dry.stdout + dry.stderr).toBe(1);
    expect(dry.stdout).toContain(`macvlan: no macvlan with MAC ${MAC} on eth0`);
    expect(links()).toBe(before);
    expect(existsSync(join(dir, "frr.conf"))).toBe(false);

    const real = await setupFrr([]);
    expect(real.exitCode, real.stdout + real.stderr).toBe(1);
    expect(readFileSync(join(dir, "frr.conf"), "utf8")).toContain(`vrrp ${VRID} ip 10.211.0.100`);
    expect(hasMacvlan()).toBe(false);

    const dryFix = await setupFrr(["--dry-run", "--macvlan"]);
    expect(dryFix.exitCode, dryFix.stdout + dryFix.stderr).toBe(0);
    expect(dryFix.stdout).toContain(`would run: ip link set dev vrrp4-`);
    expect(hasMacvlan()).toBe(false);

    const realFix = await setupFrr(["--macvlan"]);
    expect(realFix.exitCode, realFix.stdout + realFix.stderr).toBe(0);
    expect(hasMacvlan()).toBe(true);

    const dryAfter = await setupFrr(["--dry-run"]);
    expect(dryAfter.exitCode, dryAfter.stdout + dryAfter.stderr).toBe(0);
    expect(dryAfter.stdout).not.toContain("macvlan:");
    const realAfter = await setupFrr([]);
    expect(realAfter.exitCode, realAfter.stdout + realAfter.stderr).toBe(0);
  }, 120_000);
});
