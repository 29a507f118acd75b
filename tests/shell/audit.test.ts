/**
 * Who changed the configuration, in the daemon's audit log: a `commit` of `lbctl shell` (script mode) reloads a real
 * daemon on the memory kernel (LBCTL_TEST_MEMORY_KERNEL=1) and the daemon writes `config_committed` with the user;
 * `lock break --force` makes it write `config_lock_broken`; without a daemon the shell writes that record itself.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { loginActor } from "../../src/system/login-user.ts";
import { runLbctl } from "../support/run-lbctl.ts";
import { Daemon, shellTree, type ShellTree } from "./support/fixture.ts";

let tree: ShellTree | undefined;
let daemon: Daemon | undefined;

afterEach(async () => {
  await daemon?.stop();
  tree?.remove();
  daemon = tree = undefined;
});

/** The user the CLI reports with SUDO_USER=carol: the same login uid and passwd as this test process. */
function expectedUser(): string {
  return loginActor({
    readLoginUid: () => read("/proc/self/loginuid"),
    passwd: () => read("/etc/passwd"),
    env: { SUDO_USER: "carol" },
    uid: () => process.geteuid?.(),
  }).user;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The audit line of `event` in a text log, as key=value fields. */
function auditLine(log: string, event: string): { line: string; fields: Record<string, string> } | undefined {
  const line = log.split("\n").find((l) => l.includes(` audit=${event} `) || l.endsWith(` audit=${event}`));
  if (!line) return undefined;
  const fields: Record<string, string> = {};
  for (const match of line.matchAll(/ ([a-z_]+)=("(?:[^"\\]|\\.)*"|\S+)/g)) fields[match[1]!] = match[2]!.startsWith('"') ? (JSON.parse(match[2]!) as string) : match[2]!;
  return { line, fields };
}

async function waitFor<T>(probe: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await Bun.sleep(50);
  }
  throw new Error(`no ${what} in the daemon's log:\n${daemon?.output}`);
}

/** A lock held by a session on another host: never stale, so only `lock break --force` removes it. */
function foreignLock(t: ShellTree): void {
  writeFileSync(t.lock, `${JSON.stringify({ user: "alice", host: "lb-other", pid: 4242, since: "2026-12-03T09:00:00.000Z", tool: "shell" })}\n`);
}

describe("audit records of the shell", () => {
  test("a script-mode commit and a lock break are recorded by the daemon with the user", async () => {
    tree = shellTree();
    daemon = new Daemon(tree);
    await daemon.start();
    const user = expectedUser();

    const commit = await runLbctl(["shell", "--config", tree.main], { SUDO_USER: "carol" }, "configure\nservice web\nbackend 10.0.0.2 weight 3\nexit\ncommit\nexit\nexit\n");
    expect(commit.stderr).toBe("");
    expect(commit.exitCode).toBe(0);
    expect(await daemon.destinations()).toContain("tcp:192.0.2.10:80 10.0.0.2:80 3");
    const committed = await waitFor(() => auditLine(daemon!.output, "config_committed"), "config_committed record");
    expect(committed.fields).toEqual({ audit: "config_committed", origin: "shell", user, ...loginUid(), sudo_user: "carol", files: tree.path("config.d/web.yaml"), result: "success" });
    expect(committed.line).toContain("INFO  Config committed with lbctl shell");

    foreignLock(tree);
    const broken = await runLbctl(["shell", "--config", tree.main], { SUDO_USER: "carol" }, "lock break --force\n");
    expect(broken.exitCode).toBe(0);
    expect(broken.stderr).toBe("");
    expect(broken.stdout).toContain("Broke the configuration lock of alice@lb-other (pid 4242, since 2026-12-03T09:00:00.000Z)");
    expect(broken.stdout).toContain("The daemon recorded the lock break in its audit log (config_lock_broken).");
    const record = await waitFor(() => auditLine(daemon!.output, "config_lock_broken"), "config_lock_broken record");
    expect(record.fields).toEqual({
      audit: "config_lock_broken",
      user,
      ...loginUid(),
      sudo_user: "carol",
      holder_user: "alice",
      holder_host: "lb-other",
      holder_pid: "4242",
      holder_since: "2026-12-03T09:00:00.000Z",
      holder_tool: "shell",
    });
    expect(record.line).toContain("WARN  Configuration lock broken with lock break --force");
  }, 60_000);

  test("a reload without a body (lbctl reload) is no commit; a body that is not one is refused before any reload", async () => {
    tree = shellTree();
    daemon = new Daemon(tree);
    await daemon.start();
    const run = await runLbctl(["shell", "--config", tree.main], { SUDO_USER: "carol" }, "configure\nservice web\nbackend 10.0.0.2 weight 3\nexit\ncommit\nexit\nexit\n");
    expect(run.exitCode).toBe(0);
    await waitFor(() => auditLine(daemon!.output, "config_committed"), "config_committed record");
    const bad = await fetch("http://lbctl/v1/reload", { method: "POST", unix: tree.socket, body: JSON.stringify({ by: { user: "" }, origin: "shell" }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe("by.user must name who asks");
    // A plain reload: its config_loaded record is the positive sign that it ran; still one config_committed.
    const loadedBefore = daemon.output.split("audit=config_loaded").length;
    const plain = await runLbctl(["reload", "--config", tree.main]);
    expect(plain.exitCode).toBe(0);
    await waitFor(() => (daemon!.output.split("audit=config_loaded").length > loadedBefore ? true : undefined), "config_loaded record of the plain reload");
    expect(daemon.output.split("audit=config_committed").length - 1).toBe(1);
  }, 60_000);

  test("without a daemon, lock break writes the record to stderr in the daemon's text format", async () => {
    tree = shellTree();
    foreignLock(tree);
    const run = await runLbctl(["shell", "--config", tree.main], { SUDO_USER: "carol" }, "lock break --force\nlock status\n");
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("Broke the configuration lock of alice@lb-other");
    expect(run.stdout).not.toContain("The daemon recorded");
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN  Configuration lock broken with lock break --force audit=config_lock_broken user=/);
    expect(auditLine(run.stderr, "config_lock_broken")?.fields).toMatchObject({ user: expectedUser(), sudo_user: "carol", holder_user: "alice", holder_host: "lb-other", holder_pid: "4242" });
    expect(hostname()).not.toBe("lb-other");
  });
});

function loginUid(): { login_uid?: string } {
  const raw = read("/proc/self/loginuid")?.trim();
  return raw && /^\d+$/.test(raw) && raw !== "4294967295" ? { login_uid: raw } : {};
}
