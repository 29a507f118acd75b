/**
 * lbctl shell on a real terminal (a tmux pty): Tab completion, `?` help at once, a configure → service → commit
 * session reaching a daemon, a refused commit, two shells contending for the lock, a stale lock taken over, history
 * kept per user (0600), and `lbctl` alone on a terminal starting the shell.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { join } from "node:path";
import { lbctlCommandLine } from "../support/run-lbctl.ts";
import { Daemon, shellTree, WEB, type ShellTree } from "./support/fixture.ts";
import { skipPty, Terminal } from "./support/tmux.ts";

let tree: ShellTree | undefined;
let daemon: Daemon | undefined;
const terminals: Terminal[] = [];

afterEach(async () => {
  for (const t of terminals.splice(0)) t.close();
  await daemon?.stop();
  tree?.remove();
  daemon = tree = undefined;
});

function shell(args: string[] = ["shell"]): Terminal {
  const t = Terminal.start([...lbctlCommandLine(), ...args, "--config", tree!.main], {}, tree!.dir);
  terminals.push(t);
  return t;
}

describe.skipIf(skipPty)("lbctl shell on a terminal", () => {
  test("Tab completes commands, names and values; ? lists what may come next and keeps the line", async () => {
    tree = shellTree();
    const t = shell();
    await t.waitFor("lbctl> ");
    await t.typeEchoed("sh");
    await t.keys("Tab");
    await t.waitFor("lbctl> show ");
    await t.typeEchoed("ser");
    await t.keys("Tab");
    await t.waitFor("lbctl> show service");
    await t.keys("Tab"); // ambiguous: service, services; a second Tab lists them
    await Bun.sleep(400); // the two Tabs must reach readline in two reads (see Terminal.keys)
    await t.keys("Tab");
    await t.waitFor(/service\s+services/);
    await t.typeEchoed(" w");
    await t.keys("Tab");
    await t.waitFor("lbctl> show service web ");
    await t.keys("Enter");
    await t.waitFor("- address: 10.0.0.1");
    await t.typeEchoed("lock ");
    t.type("?");
    const screen = await t.waitFor("Remove another session's lock");
    expect(screen).toContain("status  Who holds the configuration lock");
    expect(screen).not.toContain("lock ?"); // taken as a key, never inserted into the line
    // The line is still there, without the `?`: finishing it runs the command.
    t.line("status");
    await t.waitFor("No configuration lock held.");
    t.line("configure");
    await t.waitFor("lbctl(config)> ");
    t.line("service web");
    await t.waitFor("lbctl(config-svc)> ");
    await t.typeEchoed("health type udp_");
    await t.keys("Tab");
    await Bun.sleep(400);
    await t.keys("Tab");
    await t.waitFor(/udp_dns\s+udp_echo\s+udp_ntp\s+udp_sip/);
    await t.keys("C-c");
    await t.typeEchoed("no backend 10.0.0");
    await t.keys("Tab");
    await t.waitFor("no backend 10.0.0.1 ");
    await t.keys("C-c");
    t.line("exit");
    t.line("exit");
    t.line("exit");
    await t.waitFor("[exit 0]");
    expect(existsSync(tree.lock)).toBe(false);
  }, 60_000);

  test("configure → service → commit reaches the daemon; a refused commit writes nothing; history is kept, 0600", async () => {
    tree = shellTree();
    daemon = new Daemon(tree);
    await daemon.start();
    const t = shell();
    await t.waitFor("lbctl> ");
    t.line("configure");
    await t.waitFor("lbctl(config)> ");
    t.line("service web");
    t.line("backend 10.0.0.2 weight 4");
    t.line("exit");
    t.line("show");
    await t.waitFor("+       weight: 4");
    t.line("commit");
    await t.waitFor("Committed: the daemon runs the new config (1 kernel change).");
    expect(await daemon.destinations()).toContain("tcp:192.0.2.10:80 10.0.0.2:80 4");
    // A commit that would make the config invalid: nothing written, the session stays in config mode.
    const written = readFileSync(tree.path("config.d/web.yaml"), "utf8");
    t.line("service web");
    t.line("health enabled true");
    t.line("health interval_ms 500");
    t.line("health timeout_ms 800");
    t.line("exit");
    t.line("commit");
    await t.waitFor("Commit refused: the configuration would be invalid");
    expect(t.screen()).toContain("services[0].health.timeout_ms: must be less than interval_ms (500), got 800");
    expect(readFileSync(tree.path("config.d/web.yaml"), "utf8")).toBe(written);
    t.line("abort");
    await t.waitFor("Aborted pending changes.");
    t.line("exit");
    t.line("exit");
    await t.waitFor("[exit 0]");
    const history = join(tree.state, "shell-history", userInfo().username);
    expect(statSync(history).mode & 0o777).toBe(0o600);
    const lines = readFileSync(history, "utf8");
    // Oldest first; a repeated line keeps only its latest place (service web, exit).
    expect(lines).toStartWith("configure\nbackend 10.0.0.2 weight 4\nshow\nservice web\n");
    expect(lines).toEndWith("commit\nabort\nexit\n");
    // A new session recalls the last lines with the Up key.
    const again = shell();
    await again.waitFor("lbctl> ");
    await again.keys("Up");
    await again.waitFor("lbctl> exit");
    await again.keys("Up");
    await again.waitFor("lbctl> abort");
  }, 90_000);

  test("two shells: the second cannot configure while the first holds the lock; it can once the first exits", async () => {
    tree = shellTree();
    const first = shell();
    const second = shell();
    await first.waitFor("lbctl> ");
    await second.waitFor("lbctl> ");
    first.line("configure");
    await first.waitFor("lbctl(config)> ");
    second.line("configure");
    const refused = await second.waitFor("error: configuration locked by");
    expect(refused).toContain(`${userInfo().username}@${hostname()} (pid `);
    expect(refused).toContain("lbctl shell) since ");
    second.line("lock status");
    await second.waitFor(/configuration locked by .*lbctl shell.* ago\./);
    first.line("service web");
    first.line("backend 10.0.0.3");
    first.line("exit");
    first.line("exit");
    await first.waitFor("Dropped 1 pending change.");
    second.line("configure");
    await second.waitFor("lbctl(config)> ");
    expect(readFileSync(tree.path("config.d/web.yaml"), "utf8")).toBe(WEB);
    // lock break --force from the first: the second's commit is then refused.
    first.line("lock break --force");
    await first.waitFor("Broke the configuration lock of");
    second.line("service web");
    second.line("backend 10.0.0.4");
    second.line("exit");
    second.line("commit");
    await second.waitFor("is no longer this session's (broken with lock break --force?): nothing written");
    expect(readFileSync(tree.path("config.d/web.yaml"), "utf8")).toBe(WEB);
  }, 60_000);

  test("a stale lock (its process gone) is taken over with a notice", async () => {
    tree = shellTree();
    const dead = Bun.spawnSync(["true"]).pid;
    writeFileSync(tree.lock, `${JSON.stringify({ user: "mallory", host: hostname(), pid: dead, since: "2026-01-01T00:00:00.000Z", tool: "shell" })}\n`);
    const t = shell();
    await t.waitFor("lbctl> ");
    t.line("lock status");
    await t.waitFor(`Stale configuration lock in ${tree.lock}: process ${dead} no longer runs on ${hostname()}`);
    t.line("configure");
    await t.waitFor(`Taking over a stale configuration lock: process ${dead} no longer runs on ${hostname()} (was mallory@${hostname()}, pid ${dead})`);
    await t.waitFor("lbctl(config)> ");
    expect(JSON.parse(readFileSync(tree.lock, "utf8")).user).toBe(userInfo().username);
  }, 60_000);

  test("lbctl with no command on a terminal is the shell", async () => {
    tree = shellTree();
    const t = shell([]);
    await t.waitFor("lbctl> ");
    t.line("show vips");
    await t.waitFor("192.0.2.10  dns, web");
    await t.keys("C-d");
    await t.waitFor("[exit 0]");
  }, 60_000);
});
