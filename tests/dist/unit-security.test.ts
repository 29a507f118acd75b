/**
 * The shipped systemd unit keeps its least-privilege rating: `systemd-analyze security --offline=true` on
 * dist/lbctl.service must rate it 3.0 or better (docs/install.md explains each directive).
 */

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { lbctlCommandLine } from "../support/run-lbctl.ts";
import { directiveValues, UNIT_PATH } from "../support/systemd-unit.ts";

const MAX_EXPOSURE = 3.0;
const analyze = Bun.which("systemd-analyze");
const strace = Bun.which("strace");
const inCi = process.env.CI === "true" || process.env.CI === "1";

describe("dist/lbctl.service hardening", () => {
  test("systemd-analyze is available (required under CI)", () => {
    if (inCi) expect(analyze, "systemd-analyze is missing: install the systemd package").not.toBeNull();
    else if (!analyze) console.warn("systemd-analyze is missing here: the exposure rating below is NOT checked");
  });

  test.skipIf(!analyze && !inCi)(`systemd-analyze security rates the unit ${MAX_EXPOSURE} or better`, () => {
    const run = Bun.spawnSync([analyze ?? "systemd-analyze", "security", "--offline=true", "--no-pager", UNIT_PATH], { env: { ...process.env, SYSTEMD_COLORS: "0" } });
    const output = run.stdout.toString() + run.stderr.toString();
    const match = /Overall exposure level for lbctl\.service: (\d+(?:\.\d+)?)/.exec(output);
    expect(match, output).not.toBeNull();
    const exposure = Number(match![1]);
    expect(exposure, output).toBeLessThanOrEqual(MAX_EXPOSURE);
  });

  test("the daemon keeps CAP_NET_ADMIN (IPVS over netlink) and nothing else", () => {
    expect(directiveValues("CapabilityBoundingSet")).toEqual(["CAP_NET_ADMIN"]);
    expect(directiveValues("NoNewPrivileges")).toEqual(["yes"]);
  });

  test("the writable paths are the state, runtime and service-file folders", () => {
    expect(directiveValues("ProtectSystem")).toEqual(["strict"]);
    expect(directiveValues("StateDirectory")).toEqual(["lbctl"]);
    expect(directiveValues("RuntimeDirectory")).toEqual(["lbctl"]);
    expect(directiveValues("ReadWritePaths")).toEqual(["-/etc/lbctl/config.d"]);
  });

  // MemoryDenyWriteExecute=yes would refuse the mapping below and kill the daemon at start.
  test.skipIf(!strace && !inCi)("MemoryDenyWriteExecute stays off: lbctl (Bun's JIT) maps writable and executable memory", () => {
    expect(directiveValues("MemoryDenyWriteExecute")).toEqual([]);
    const run = Bun.spawnSync([strace ?? "strace", "-f", "-e", "trace=mmap,mprotect", ...lbctlCommandLine(), "--version"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout.toString()).toStartWith("lbctl ");
    expect(run.stderr.toString()).toMatch(/mmap\(NULL, \d+, PROT_READ\|PROT_WRITE\|PROT_EXEC, MAP_PRIVATE\|MAP_ANONYMOUS/);
  });

  test("Documentation= points at the shipped man page", () => {
    expect(readFileSync(UNIT_PATH, "utf8")).toContain("Documentation=man:lbctl(8)\n");
  });
});
