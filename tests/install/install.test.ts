/**
 * install.sh for real, in fresh Debian 12 roots (debootstrap, cached; see support/debian-root.ts) entered with
 * chroot: the air-gapped path (--binary, no network namespace at all), idempotence, the operator's config surviving
 * re-installs and --uninstall, a download from a local HTTP server, and a checksum mismatch that installs nothing.
 *
 * Not covered here: systemd enabling the unit (a chroot has no running systemd, which is the path tested: the
 * script must say the unit was not enabled), and installing libnl/frr from a mirror (the root ships libnl; frr is
 * tried offline and must fail with a warning, not an error).
 */

import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freshRoot, type DebianRoot, unavailableReason } from "./support/debian-root.ts";

const repo = join(import.meta.dir, "../..");
const binary = process.env.LBCTL_BIN ?? join(repo, "build/lbctl");
const inCi = process.env.CI === "true" || process.env.CI === "1";
const reason = unavailableReason() ?? (existsSync(binary) ? undefined : `${binary} does not exist: run npm run build`);
const T = 600_000;

let debian: DebianRoot | undefined;

beforeAll(() => {
  if (reason && inCi) throw new Error(`install tests cannot run: ${reason}`);
  if (reason) console.warn(`SKIPPED install.sh tests: ${reason}`);
});

afterEach(() => {
  debian?.remove();
  debian = undefined;
}, 60_000);

const dist = (file: string) => readFileSync(join(repo, "dist", file), "utf8");

/** install.sh and the binary copied into the root, as an operator copies a release folder. */
function stage(root: DebianRoot): string {
  const folder = root.path("opt/lbctl-release");
  mkdirSync(folder, { recursive: true });
  copyFileSync(join(repo, "install.sh"), join(folder, "install.sh"));
  copyFileSync(binary, join(folder, "lbctl"));
  chmodSync(join(folder, "lbctl"), 0o755);
  return "/opt/lbctl-release";
}

/** Every file under the folders install.sh may touch, with sizes: "nothing installed" means this did not change. */
function snapshot(root: DebianRoot): string[] {
  const out: string[] = [];
  const walk = (relative: string) => {
    const full = root.path(relative);
    if (!existsSync(full)) return;
    for (const entry of readdirSync(full)) {
      const path = join(relative, entry);
      const stat = statSync(root.path(path), { throwIfNoEntry: false });
      if (stat?.isDirectory()) walk(path);
      else out.push(`${path} ${stat?.size}`);
    }
  };
  for (const dir of ["usr/local", "etc/systemd", "etc/lbctl", "etc/modules-load.d", "var/lib/lbctl"]) walk(dir);
  return out.sort();
}

describe.skipIf(Boolean(reason))("install.sh in a fresh Debian root", () => {
  test("air-gapped --binary: every file placed, validate passes, a second run changes nothing, the operator's config survives, --uninstall keeps /etc/lbctl", async () => {
    debian = freshRoot();
    const folder = stage(debian);
    const first = await debian.exec(["bash", `${folder}/install.sh`, "--binary", `${folder}/lbctl`, "--skip-frr"], { offline: true });
    expect(first.stderr).not.toContain("ERROR");
    expect(first.exitCode).toBe(0);

    const installed = debian.path("usr/local/bin/lbctl");
    expect(readFileSync(installed).equals(readFileSync(binary))).toBe(true);
    expect(statSync(installed).mode & 0o777).toBe(0o755);
    expect(readFileSync(debian.path("etc/systemd/system/lbctl.service"), "utf8")).toBe(dist("lbctl.service"));
    expect(readFileSync(debian.path("etc/modules-load.d/lbctl.conf"), "utf8")).toBe(dist("modules-load.d-lbctl.conf"));
    expect(readFileSync(debian.path("etc/lbctl/config.yaml"), "utf8")).toBe(dist("config.yaml.example"));
    expect(readFileSync(debian.path("usr/local/share/man/man8/lbctl.8"), "utf8")).toBe(dist("lbctl.8"));
    expect(readFileSync(debian.path("usr/share/bash-completion/completions/lbctl"), "utf8")).toContain("complete -F _lbctl lbctl");
    expect(readFileSync(debian.path("etc/lbctl/examples/example-service.yaml"), "utf8")).toBe(dist("config.d/example-service.yaml"));
    expect(statSync(debian.path("etc/lbctl/config.d")).isDirectory()).toBe(true);
    expect(statSync(debian.path("var/lib/lbctl")).isDirectory()).toBe(true);
    expect(first.stdout).toContain("the service was NOT enabled");
    expect(first.stdout).toContain("libnl-genl-3 is installed");
    // It ends with lbctl doctor (IPVS cannot be asked in an offline chroot on this kernel) and the next steps.
    expect(first.stdout).toMatch(/PASS\s+config\s+\/etc\/lbctl\/config\.yaml is valid/);
    expect(first.stdout).toMatch(/FAIL\s+ipvs/);
    expect(first.stdout).toContain("Next steps:");

    const validate = await debian.exec(["lbctl", "validate"], { offline: true });
    expect(validate.exitCode).toBe(0);
    expect(validate.stdout + validate.stderr).toContain("/etc/lbctl/config.yaml is valid");

    // Second run, this time without --skip-frr: offline, frr cannot be installed, which is a warning only.
    const before = snapshot(debian);
    const second = await debian.exec(["bash", `${folder}/install.sh`, "--binary", `${folder}/lbctl`], { offline: true });
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain("/usr/local/bin/lbctl is already this binary");
    expect(second.stderr).toContain("could not install the frr package");
    expect(snapshot(debian)).toEqual(before);

    // The operator's config is never overwritten, by install or by uninstall.
    const mine = "node: { name: lb-b, role: secondary }\nnetwork:\n  frontend:\n    vip: 192.0.2.99\n";
    writeFileSync(debian.path("etc/lbctl/config.yaml"), mine);
    writeFileSync(debian.path("etc/lbctl/config.d/web.yaml"), "services:\n  - name: web\n    ports: [80]\n    backends: [{ address: 10.9.0.1 }]\n");
    expect((await debian.exec(["bash", `${folder}/install.sh`, "--binary", `${folder}/lbctl`, "--skip-frr"], { offline: true })).exitCode).toBe(0);
    expect(readFileSync(debian.path("etc/lbctl/config.yaml"), "utf8")).toBe(mine);
    expect((await debian.exec(["lbctl", "validate", "--quiet"], { offline: true })).exitCode).toBe(0);

    const removal = await debian.exec(["bash", `${folder}/install.sh`, "--uninstall"], { offline: true });
    expect(removal.exitCode).toBe(0);
    for (const gone of ["usr/local/bin/lbctl", "etc/systemd/system/lbctl.service", "usr/local/share/man/man8/lbctl.8", "usr/share/bash-completion/completions/lbctl", "etc/modules-load.d/lbctl.conf"]) expect(existsSync(debian.path(gone))).toBe(false);
    expect(readFileSync(debian.path("etc/lbctl/config.yaml"), "utf8")).toBe(mine);
    expect(existsSync(debian.path("etc/lbctl/config.d/web.yaml"))).toBe(true);
    expect(removal.stdout).toContain("left in place:\n  /etc/lbctl\n  /var/lib/lbctl");
    const again = await debian.exec(["bash", `${folder}/install.sh`, "--uninstall"], { offline: true });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain("nothing removed");
  }, T);

  test("download: the binary and SHA256SUMS from an HTTP server (latest and --version), checksum verified", async () => {
    debian = freshRoot();
    const folder = stage(debian);
    const bytes = readFileSync(binary);
    const sum = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
    const names = ["lbctl-linux-x64", "lbctl-linux-x64-baseline"];
    const sums = names.map((name) => `${sum}  ${name}\n`).join("");
    const requests: string[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        const path = new URL(request.url).pathname;
        requests.push(path);
        const file = path.replace(/^\/(v0\.1\.0\/)?/, "");
        if (file === "SHA256SUMS") return new Response(sums);
        if (names.includes(file)) return new Response(bytes);
        return new Response("not found", { status: 404 });
      },
    });
    try {
      const env = { LBCTL_DOWNLOAD_URL: `http://127.0.0.1:${server.port}` };
      // From /root, not the release folder: no binary beside the script, so it downloads.
      copyFileSync(join(repo, "install.sh"), debian.path("root/install.sh"));
      const latest = await debian.exec(["bash", "/root/install.sh", "--skip-frr"], { env });
      expect(latest.stderr).not.toContain("ERROR");
      expect(latest.exitCode).toBe(0);
      expect(latest.stdout).toContain("checksum of lbctl-linux-x64");
      expect(readFileSync(debian.path("usr/local/bin/lbctl")).equals(bytes)).toBe(true);
      expect(requests.filter((p) => p.endsWith("SHA256SUMS"))).toEqual(["/SHA256SUMS"]);

      const pinned = await debian.exec(["bash", "/root/install.sh", "--skip-frr", "--version", "0.1.0"], { env });
      expect(pinned.exitCode).toBe(0);
      expect(requests.some((p) => p.startsWith("/v0.1.0/lbctl-linux-x64"))).toBe(true);
      expect(folder).toBeTruthy();
    } finally {
      server.stop(true);
    }
  }, T);

  test("a checksum mismatch aborts before anything is installed", async () => {
    debian = freshRoot();
    const bytes = readFileSync(binary);
    const wrong = "0".repeat(64);
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        const file = new URL(request.url).pathname.slice(1);
        if (file === "SHA256SUMS") return new Response(`${wrong}  lbctl-linux-x64\n${wrong}  lbctl-linux-x64-baseline\n`);
        return file.startsWith("lbctl-linux-") ? new Response(bytes) : new Response("no", { status: 404 });
      },
    });
    try {
      copyFileSync(join(repo, "install.sh"), debian.path("root/install.sh"));
      const before = snapshot(debian);
      const run = await debian.exec(["bash", "/root/install.sh"], { env: { LBCTL_DOWNLOAD_URL: `http://127.0.0.1:${server.port}` } });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain("checksum mismatch");
      expect(run.stderr).toContain("Nothing was installed");
      expect(snapshot(debian)).toEqual(before);
      expect(existsSync(debian.path("usr/local/bin/lbctl"))).toBe(false);
      expect(existsSync(debian.path("etc/lbctl"))).toBe(false);
    } finally {
      server.stop(true);
    }
  }, T);

  test("--dry-run prints the steps and changes nothing", async () => {
    debian = freshRoot();
    const folder = stage(debian);
    const before = snapshot(debian);
    const run = await debian.exec(["bash", `${folder}/install.sh`, "--dry-run", "--binary", `${folder}/lbctl`], { offline: true });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("[dry-run] install /opt/lbctl-release/lbctl as /usr/local/bin/lbctl");
    expect(run.stdout).toContain("[dry-run] lbctl setup files");
    expect(run.stdout).toContain("would be created: /usr/local/share/man/man8/lbctl.8 (man page lbctl(8))");
    expect(snapshot(debian)).toEqual(before);
  }, T);
});
