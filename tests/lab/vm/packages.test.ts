import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import {
  decidePackages, dpkgInstalled, ensurePackages, type EnsureDeps, parseDpkgStatus, parsePackageList, readPackageList, SETUP_SCRIPT,
  type RequiredPackage,
} from "./packages.ts";

const packages: RequiredPackage[] = [
  { name: "qemu-system-x86", why: "the emulator" },
  { name: "frr", why: "zebra and vrrpd for the VRRP failover lab test" },
  { name: "prometheus", why: "promtool" },
];

/** ensurePackages with an injected dpkg: `installed` answers the queries in turn (the last one repeats). */
function run(installed: string[][], options: { root: boolean; inCi?: boolean; setupStatus?: number }) {
  const queries: string[][] = [];
  let setupRuns = 0;
  let output = "";
  const deps: EnsureDeps = {
    packages,
    installed: (names) => {
      queries.push([...names]);
      return new Set(installed[Math.min(queries.length - 1, installed.length - 1)]);
    },
    root: options.root,
    inCi: options.inCi ?? false,
    runSetup: () => {
      setupRuns++;
      return options.setupStatus ?? 0;
    },
    write: (text) => {
      output += text;
    },
  };
  const outcome = ensurePackages(deps);
  return { outcome, queries, setupRuns, output };
}

const all = packages.map((p) => p.name);

describe("the tests' Debian packages", () => {
  test("everything installed: says so, and runs neither setup.sh nor apt", () => {
    const { outcome, setupRuns, queries, output } = run([all], { root: true });
    expect(outcome).toEqual({ ok: true, missing: [] });
    expect(setupRuns).toBe(0);
    expect(queries).toEqual([all]);
    expect(output).toBe("Debian packages: all 3 the tests need are installed; nothing to do\n");
  });

  test("missing as root: setup.sh runs once, and dpkg is asked again afterwards", () => {
    const { outcome, setupRuns, queries } = run([["qemu-system-x86"], all], { root: true });
    expect(outcome).toEqual({ ok: true, missing: [] });
    expect(setupRuns).toBe(1);
    expect(queries).toHaveLength(2);
  });

  test("missing as root, setup.sh fails: the still-missing packages are named", () => {
    const { outcome, output } = run([["qemu-system-x86"], ["qemu-system-x86", "prometheus"]], { root: true, setupStatus: 100 });
    expect(outcome.ok).toBe(false);
    expect(outcome.missing.map((p) => p.name)).toEqual(["frr"]);
    expect(outcome.problem).toBe("tests/lab/setup.sh exited with status 100; still missing: frr");
    expect(output).toContain("WARNING: installing the tests' Debian packages failed");
  });

  test("setup.sh exits 0 but a package is still missing: not ok", () => {
    const { outcome } = run([["qemu-system-x86"], ["qemu-system-x86", "frr"]], { root: true });
    expect(outcome).toMatchObject({ ok: false, problem: "tests/lab/setup.sh exited with status 0; still missing: prometheus" });
  });

  test("missing, not root, outside CI: no install, a loud warning naming each package and why, and a skip", () => {
    const { outcome, setupRuns, output } = run([["qemu-system-x86"]], { root: false });
    expect(setupRuns).toBe(0);
    expect(outcome.ok).toBe(false);
    expect(outcome.missing.map((p) => p.name)).toEqual(["frr", "prometheus"]);
    expect(output).toContain("WARNING: 2 Debian package(s) the tests need are missing and only root can install them: frr, prometheus");
    expect(output).toContain("  frr                zebra and vrrpd for the VRRP failover lab test\n");
    expect(output).toContain("SKIPPED");
  });

  test("missing, not root, under CI: no install, and the message says it is a failure", () => {
    const { outcome, setupRuns, output } = run([[]], { root: false, inCi: true });
    expect(setupRuns).toBe(0);
    expect(outcome.ok).toBe(false);
    expect(output).toContain("FAIL: 3 Debian package(s)");
    expect(output).toContain("CI=true: this is a failure.");
    expect(output).not.toContain("SKIPPED");
  });

  test("decidePackages keeps the list's order", () => {
    expect(decidePackages(packages, new Set(["frr"]), true)).toEqual({ kind: "install", missing: [packages[0]!, packages[2]!] });
    expect(decidePackages(packages, new Set(all), false)).toEqual({ kind: "complete", packages });
  });
});

describe("packages.txt and dpkg", () => {
  test("parsePackageList skips comments and blank lines and keeps what each package is for", () => {
    expect(parsePackageList("# header\n\nfrr   zebra and vrrpd\n  socat servers  \nbare\n")).toEqual([
      { name: "frr", why: "zebra and vrrpd" },
      { name: "socat", why: "servers" },
      { name: "bare", why: "" },
    ]);
  });

  test("the real list names each package once, each with a reason; setup.sh reads the same file", () => {
    const list = readPackageList();
    expect(list.length).toBeGreaterThan(10);
    expect(new Set(list.map((p) => p.name)).size).toBe(list.length);
    for (const p of list) expect(p.why.length).toBeGreaterThan(5);
    for (const name of ["frr", "dnsmasq-base", "chrony", "sip-tester", "prometheus", "qemu-system-x86"]) expect(list.map((p) => p.name)).toContain(name);
    const setup = Bun.spawnSync(["bash", SETUP_SCRIPT, "--list"], { stdout: "pipe", stderr: "pipe" });
    expect(setup.stdout.toString()).toBe(list.map((p) => `${p.name}\n`).join(""));
  });

  test("parseDpkgStatus keeps only installed packages, without an architecture suffix", () => {
    const output = "frr install ok installed\nchrony deinstall ok config-files\nlibnl-3-200:amd64 install ok installed\nsocat install ok unpacked\n";
    expect([...parseDpkgStatus(output)]).toEqual(["frr", "libnl-3-200"]);
  });

  test.skipIf(!existsSync("/usr/bin/dpkg-query"))("dpkgInstalled asks the real dpkg: dpkg itself is installed, a made-up name is not", () => {
    const installed = dpkgInstalled(["dpkg", "lbctl-no-such-package"]);
    expect([...installed]).toEqual(["dpkg"]);
  });
});
