/**
 * Fresh Debian 12 root file systems for install.sh tests. `debootstrap --variant=minbase` (from the Debian mirror)
 * runs once and its result is cached as a tarball under .lab-cache/ (about 80 s the first time, then 2-4 s to
 * unpack a fresh copy). The root also gets libnl (so the library step sees it installed) and curl (for downloads).
 */

import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "../../..");
const SUITE = "bookworm";
const MIRROR = "http://deb.debian.org/debian";
const INCLUDE = ["libnl-3-200", "libnl-genl-3-200", "curl", "ca-certificates"];
export const CACHE_DIR = process.env.LBCTL_INSTALL_ROOT_CACHE ?? join(root, ".lab-cache/install-root");
// Bump when the recipe changes, so an old cache is not used.
const RECIPE = 2;
const TARBALL = join(CACHE_DIR, `${SUITE}-minbase-${INCLUDE.join("+")}-r${RECIPE}.tar`);
/** Not needed to install or run lbctl; dropping them halves the root (faster to unpack and delete). */
const TRIM = ["var/cache/apt", "var/lib/apt/lists", "usr/share/locale", "usr/share/doc", "usr/share/man", "usr/share/info"];
/** Fresh roots go to RAM when there is a tmpfs for it. */
const SCRATCH = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();

/** Why these tests cannot run here, or undefined. */
export function unavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return "install tests need root (chroot, mount)";
  if (!Bun.which("debootstrap") && !existsSync(TARBALL)) return "debootstrap is not installed (tests/lab/setup.sh installs it)";
  if (!Bun.which("unshare") || !Bun.which("chroot")) return "unshare and chroot (util-linux, coreutils) are needed";
  return undefined;
}

function run(argv: string[], what: string): void {
  const proc = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`${what} failed (exit ${proc.exitCode}): ${proc.stderr.toString().slice(-2000)}`);
}

/** Makes the cached tarball when it is missing; returns how long that took (0 when cached). */
export function ensureTarball(): number {
  if (existsSync(TARBALL)) return 0;
  const started = performance.now();
  mkdirSync(CACHE_DIR, { recursive: true });
  const staging = mkdtempSync(join(CACHE_DIR, "staging-"));
  try {
    const target = join(staging, "root");
    run(["debootstrap", "--variant=minbase", `--include=${INCLUDE.join(",")}`, SUITE, target, MIRROR], "debootstrap");
    for (const path of TRIM) {
      rmSync(join(target, path), { recursive: true, force: true });
      mkdirSync(join(target, path), { recursive: true });
    }
    run(["tar", "--numeric-owner", "-C", target, "-cf", join(staging, "root.tar"), "."], "tar of the fresh root");
    renameSync(join(staging, "root.tar"), TARBALL);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return performance.now() - started;
}

export interface DebianRoot {
  dir: string;
  /** Runs argv as root inside the chroot (with its own /proc); `offline` also gives it an empty network namespace. */
  exec(argv: string[], options?: { env?: Record<string, string>; offline?: boolean }): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  path(inside: string): string;
  remove(): void;
}

export function freshRoot(): DebianRoot {
  ensureTarball();
  const dir = mkdtempSync(join(SCRATCH, "lbctl-debian-root-"));
  run(["tar", "--numeric-owner", "-C", dir, "-xf", TARBALL], "unpacking the cached root");
  return {
    dir,
    path: (inside) => join(dir, inside),
    async exec(argv, options = {}) {
      const env = Object.entries({ PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root", LANG: "C.UTF-8", ...options.env })
        .map(([key, value]) => `${key}=${value}`);
      // A private mount namespace: /proc is mounted for the chroot and vanishes with it.
      const script = 'mount -t proc proc "$0/proc" && exec chroot "$0" /usr/bin/env -i "$@"';
      const proc = Bun.spawn(["unshare", "--mount", ...(options.offline ? ["--net"] : []), "--fork", "sh", "-c", script, dir, ...env, ...argv], {
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      return { exitCode, stdout, stderr };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
