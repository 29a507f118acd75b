/**
 * `install.sh --dry-run` says what a real run would do, refusals included: the binary is checked (an ELF file that
 * answers `--version` with "lbctl ...") before any step is printed, and nothing on the host changes. Runs on the
 * host without root (a dry run needs none).
 */

import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repo = join(import.meta.dir, "../..");
const binary = process.env.LBCTL_BIN ?? join(repo, "build/lbctl");

function dryRun(...args: string[]) {
  const run = Bun.spawnSync(["bash", join(repo, "install.sh"), "--dry-run", "--skip-frr", ...args], { stdout: "pipe", stderr: "pipe" });
  return { exitCode: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

describe("install.sh --dry-run", () => {
  test("refuses a file that is not an executable: /etc/passwd", () => {
    const run = dryRun("--binary", "/etc/passwd");
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("/etc/passwd is not an executable (ELF) file: nothing was installed");
    expect(run.stdout).not.toContain("done");
    expect(run.stdout).not.toContain("[dry-run] install");
  });

  test("refuses a script that claims to be lbctl, without running it", () => {
    const dir = mkdtempSync(join(tmpdir(), "lbctl-dry-run-"));
    try {
      const marker = join(dir, "ran");
      const fake = join(dir, "lbctl-linux-x64");
      writeFileSync(fake, `#!/bin/sh\ntouch ${marker}\necho "lbctl 9.9.9"\n`);
      chmodSync(fake, 0o755);
      const run = dryRun("--binary", fake);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain("is not an executable (ELF) file");
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("refuses a missing file", () => {
    const run = dryRun("--binary", "/nonexistent/lbctl");
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("--binary /nonexistent/lbctl: no such file");
  });

  test.skipIf(!existsSync(binary))("with the real binary: checks it, lists every file setup files would write, ends with done", () => {
    const run = dryRun("--binary", binary);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/binary ok: lbctl \d+\.\d+\.\d+/);
    expect(run.stdout).toContain(`[dry-run] install ${binary} as /usr/local/bin/lbctl`);
    expect(run.stdout).toMatch(/(would be created|unchanged|would be updated): \/usr\/local\/share\/man\/man8\/lbctl\.8 \(man page lbctl\(8\)\)/);
    expect(run.stdout).toMatch(/: \/etc\/systemd\/system\/lbctl\.service \(systemd unit\)/);
    expect(run.stdout).toContain("[dry-run] lbctl completion bash > /usr/share/bash-completion/completions/lbctl");
    expect(run.stdout.trimEnd()).toEndWith("lbctl install: done");
  });
});
