/**
 * `npm run build -- --release`: the three release binaries for the right CPUs, and a SHA256SUMS that sha256sum -c
 * and install.sh accept. Built into a scratch folder; Bun fetches the cross-compile runtimes from the npm registry
 * the first time (cached afterwards).
 */

import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repo = join(import.meta.dir, "../..");

/** e_machine of an ELF file: 62 = x86-64, 183 = AArch64. */
function elfMachine(path: string): number {
  const header = readFileSync(path).subarray(0, 20);
  expect(header.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
  return header.readUInt16LE(18);
}

test("release build: x64, x64-baseline and arm64 binaries with their checksums", () => {
  const out = mkdtempSync(join(tmpdir(), "lbctl-release-"));
  try {
    const build = Bun.spawnSync([process.execPath, "build.ts", "--release", `--outdir=${out}`], { cwd: repo, stdout: "pipe", stderr: "pipe" });
    expect(build.stderr.toString()).not.toContain("error");
    expect(build.exitCode).toBe(0);
    expect(elfMachine(join(out, "lbctl-linux-x64"))).toBe(62);
    expect(elfMachine(join(out, "lbctl-linux-x64-baseline"))).toBe(62);
    expect(elfMachine(join(out, "lbctl-linux-arm64"))).toBe(183);
    const sums = readFileSync(join(out, "SHA256SUMS"), "utf8");
    expect(sums.trim().split("\n").map((line) => line.split("  ")[1])).toEqual(["lbctl-linux-x64", "lbctl.8", "lbctl-linux-x64-baseline", "lbctl-linux-arm64"]);
    expect(readFileSync(join(out, "lbctl.8"), "utf8")).toStartWith(".TH LBCTL 8 ");
    const check = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: out, stdout: "pipe", stderr: "pipe" });
    expect(check.exitCode).toBe(0);
    // The baseline binary runs on any x86-64, this host included.
    const version = Bun.spawnSync([join(out, "lbctl-linux-x64-baseline"), "--version"], { stdout: "pipe" });
    expect(version.stdout.toString()).toMatch(/^lbctl \d+\.\d+\.\d+\n$/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 600_000);
