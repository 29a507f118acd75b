/**
 * The Debian packages the tests need (tests/lab/packages.txt), and the decision `npm test` and `npm run demo` take
 * before anything else: nothing missing, nothing done (not even apt); missing and root, tests/lab/setup.sh installs
 * them (it says what and why, and apt shows its progress); missing and not root, a loud warning naming what will
 * not run, which under CI=true is a failure.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface RequiredPackage {
  name: string;
  /** What the tests use it for, as packages.txt says. */
  why: string;
}

/** Which of the named packages dpkg reports as installed. */
export type InstalledQuery = (names: readonly string[]) => ReadonlySet<string>;

export type PackageDecision =
  | { kind: "complete"; packages: readonly RequiredPackage[] }
  | { kind: "install"; missing: readonly RequiredPackage[] }
  | { kind: "cannot-install"; missing: readonly RequiredPackage[] };

export interface EnsureOutcome {
  /** Every package is installed now. */
  ok: boolean;
  /** Packages still missing afterwards. */
  missing: readonly RequiredPackage[];
  /** One sentence for the run's summary when not ok. */
  problem?: string;
}

export interface EnsureDeps {
  packages: readonly RequiredPackage[];
  installed: InstalledQuery;
  root: boolean;
  inCi: boolean;
  /** Runs tests/lab/setup.sh with its output shown; resolves with its exit status. */
  runSetup: () => number;
  write: (text: string) => void;
}

const repositoryRoot = join(import.meta.dir, "../../..");
export const PACKAGE_LIST = join(repositoryRoot, "tests/lab/packages.txt");
export const SETUP_SCRIPT = join(repositoryRoot, "tests/lab/setup.sh");

/** Parses packages.txt: `name  what it is for`, one a line; blank lines and `#` lines are ignored. */
export function parsePackageList(text: string): RequiredPackage[] {
  const packages: RequiredPackage[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const match = /^(\S+)\s*(.*)$/.exec(trimmed)!;
    packages.push({ name: match[1]!, why: match[2]! });
  }
  return packages;
}

export function readPackageList(file = PACKAGE_LIST): RequiredPackage[] {
  return parsePackageList(readFileSync(file, "utf8"));
}

/** Parses `dpkg-query -W -f '${Package} ${Status}\n'`: the packages whose status is "install ok installed". */
export function parseDpkgStatus(output: string): Set<string> {
  const installed = new Set<string>();
  for (const line of output.split("\n")) {
    const match = /^(\S+) install ok installed$/.exec(line.trim());
    if (match) installed.add(match[1]!.replace(/:[a-z0-9]+$/, ""));
  }
  return installed;
}

/** Asks dpkg (no root needed). Without dpkg-query (not Debian) nothing counts as installed. */
export function dpkgInstalled(names: readonly string[]): ReadonlySet<string> {
  try {
    // Exits 1 when some name is unknown to dpkg, and still lists the others.
    const result = Bun.spawnSync(["dpkg-query", "-W", "-f", "${Package} ${Status}\\n", ...names], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    return parseDpkgStatus(result.stdout.toString());
  } catch {
    return new Set();
  }
}

export function decidePackages(packages: readonly RequiredPackage[], installed: ReadonlySet<string>, root: boolean): PackageDecision {
  const missing = packages.filter((p) => !installed.has(p.name));
  if (missing.length === 0) return { kind: "complete", packages };
  return root ? { kind: "install", missing } : { kind: "cannot-install", missing };
}

function listed(packages: readonly RequiredPackage[]): string {
  return packages.map((p) => `  ${p.name.padEnd(18)} ${p.why}\n`).join("");
}

function loud(title: string, body: string): string {
  const bar = "!".repeat(78);
  return `\n${bar}\n${title}\n${body}${bar}\n\n`;
}

/** Installs what is missing when it can (see the header); never throws for a missing package. */
export function ensurePackages(deps: EnsureDeps): EnsureOutcome {
  const decision = decidePackages(deps.packages, deps.installed(deps.packages.map((p) => p.name)), deps.root);
  if (decision.kind === "complete") {
    deps.write(`Debian packages: all ${decision.packages.length} the tests need are installed; nothing to do\n`);
    return { ok: true, missing: [] };
  }
  if (decision.kind === "cannot-install") {
    const problem = `${decision.missing.length} Debian package(s) the tests need are missing and only root can install them: ${decision.missing.map((p) => p.name).join(", ")}`;
    const consequence = deps.inCi
      ? "CI=true: this is a failure.\n"
      : "The tests that need them are SKIPPED (and counted as skipped). Run `npm test` as root, or\n`sudo bash tests/lab/setup.sh`, to install them.\n";
    deps.write(loud(`${deps.inCi ? "FAIL" : "WARNING"}: ${problem}:`, `${listed(decision.missing)}${consequence}`));
    return { ok: false, missing: decision.missing, problem };
  }
  const status = deps.runSetup();
  const still = decidePackages(deps.packages, deps.installed(deps.packages.map((p) => p.name)), deps.root);
  const missing = still.kind === "complete" ? [] : still.missing;
  if (status === 0 && missing.length === 0) return { ok: true, missing: [] };
  const problem = `tests/lab/setup.sh exited with status ${status}${missing.length > 0 ? `; still missing: ${missing.map((p) => p.name).join(", ")}` : ""}`;
  deps.write(loud(`${deps.inCi ? "FAIL" : "WARNING"}: installing the tests' Debian packages failed: ${problem}.`, deps.inCi ? "CI=true: this is a failure.\n" : "The tests that need them are SKIPPED (and counted as skipped).\n"));
  return { ok: false, missing, problem };
}

/** ensurePackages on this host: packages.txt, dpkg, the real uid, setup.sh through bash. */
export function ensureHostPackages(options: { inCi: boolean; write?: (text: string) => void }): EnsureOutcome {
  return ensurePackages({
    packages: readPackageList(),
    installed: dpkgInstalled,
    root: process.getuid?.() === 0,
    inCi: options.inCi,
    runSetup: () => Bun.spawnSync(["bash", SETUP_SCRIPT], { stdin: "ignore", stdout: "inherit", stderr: "inherit" }).exitCode ?? 1,
    write: options.write ?? ((text) => void process.stdout.write(text)),
  });
}
