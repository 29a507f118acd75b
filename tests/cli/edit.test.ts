/**
 * lbctl edit with EDITOR set to scripts: a valid edit is validated, written in place and reloaded into the daemon; an
 * invalid one shows located errors and is discarded or edited again; nothing changed, a held lock, an unknown
 * service.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { runLbctl } from "../support/run-lbctl.ts";
import { Daemon, shellTree, WEB, type ShellTree } from "../shell/support/fixture.ts";

let tree: ShellTree | undefined;
let daemon: Daemon | undefined;

afterEach(async () => {
  await daemon?.stop();
  tree?.remove();
  daemon = tree = undefined;
});

/** An editor: a shell script run as `$EDITOR FILE`. */
function editor(body: string): string {
  const path = tree!.path(`editor-${Math.random().toString(16).slice(2)}.sh`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const SET_WEIGHT_7 = `sed -i 's/address: 10.0.0.1 }/address: 10.0.0.1, weight: 7 }/' "$1"`;
const SET_WEIGHT_BAD = `sed -i 's/address: 10.0.0.1 }/address: 10.0.0.1, weight: -1 }/' "$1"`;

describe("lbctl edit", () => {
  test("a valid edit: the diff, the daemon's plan, the file written in place, the daemon reloaded", async () => {
    tree = shellTree();
    daemon = new Daemon(tree);
    await daemon.start();
    const run = await runLbctl(["edit", "web", "--config", tree.main], { EDITOR: editor(SET_WEIGHT_7), VISUAL: "", SUDO_USER: "carol" });
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`Changes to ${tree.path("config.d/web.yaml")}:\n-     backends: [{ address: 10.0.0.1 }]\n+     backends: [{ address: 10.0.0.1, weight: 7 }]\n`);
    expect(run.stdout).toContain("Plan (from the daemon's dry run):\n  update-destination tcp:192.0.2.10:80 10.0.0.1:80 (web)");
    expect(run.stdout).toContain("Committed: the daemon runs the new config (1 kernel change).");
    expect(readFileSync(tree.path("config.d/web.yaml"), "utf8")).toBe(WEB.replace("address: 10.0.0.1 }", "address: 10.0.0.1, weight: 7 }"));
    expect(await daemon.destinations()).toContain("tcp:192.0.2.10:80 10.0.0.1:80 7");
    expect(existsSync(tree.lock)).toBe(false);
    // The daemon's audit record names the tool, the user (SUDO_USER here) and the file.
    const committed = () => daemon!.output.split("\n").find((line) => line.includes("audit=config_committed"));
    for (let i = 0; i < 100 && !committed(); i++) await Bun.sleep(50);
    expect(committed()).toContain("audit=config_committed origin=edit user=");
    expect(committed()).toContain(`sudo_user=carol files=${tree.path("config.d/web.yaml")} result=success`);
  }, 60_000);

  test("VISUAL wins over EDITOR; an invalid edit shows the located error, and discarding leaves the file untouched", async () => {
    tree = shellTree();
    const run = await runLbctl(["edit", "web", "--config", tree.main], { VISUAL: editor(SET_WEIGHT_BAD), EDITOR: editor(SET_WEIGHT_7) }, "d\n");
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`${tree.path("config.d/web.yaml")}:5:45: services[0].backends[0].weight: `);
    expect(run.stdout).toContain("would make the configuration invalid. (e)dit again or (d)iscard?");
    expect(run.stderr).toContain(`Discarded: ${tree.path("config.d/web.yaml")} is untouched.`);
    expect(readFileSync(tree.path("config.d/web.yaml"), "utf8")).toBe(WEB);
    expect(existsSync(tree.lock)).toBe(false);
  });

  test("edit again: the second edit (valid) is written", async () => {
    tree = shellTree();
    const count = tree.path("count");
    const script = editor(`n=$(cat ${count} 2>/dev/null || echo 0); echo $((n+1)) > ${count}
if [ "$n" = 0 ]; then ${SET_WEIGHT_BAD}; else sed -i 's/weight: -1/weight: 2/' "$1"; fi`);
    const run = await runLbctl(["edit", "web", "--config", tree.main], { EDITOR: script, VISUAL: "" }, "e\n");
    expect(run.exitCode).toBe(0);
    expect(readFileSync(count, "utf8").trim()).toBe("2");
    expect(readFileSync(tree.path("config.d/web.yaml"), "utf8")).toContain("address: 10.0.0.1, weight: 2 }");
    expect(run.stdout).toContain("Committed. No daemon answers on");
  });

  test("no change, the main file by default, a held lock, an unknown service", async () => {
    tree = shellTree();
    const same = await runLbctl(["edit", "--config", tree.main], { EDITOR: "true", VISUAL: "" });
    expect(same.exitCode).toBe(0);
    expect(same.stdout).toContain(`No changes: ${tree.main} is untouched.`);
    writeFileSync(tree.lock, `${JSON.stringify({ user: "bob", host: hostname(), pid: process.pid, since: new Date().toISOString(), tool: "shell" })}\n`);
    const locked = await runLbctl(["edit", "web", "--config", tree.main], { EDITOR: editor(SET_WEIGHT_7), VISUAL: "" });
    expect(locked.exitCode).toBe(1);
    expect(locked.stderr).toContain(`configuration locked by bob@${hostname()} (pid ${process.pid}, lbctl shell)`);
    expect(readFileSync(tree.path("config.d/web.yaml"), "utf8")).toBe(WEB);
    const unknown = await runLbctl(["edit", "nope", "--config", tree.main], { EDITOR: "true", VISUAL: "" });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain("No service nope in");
    const failing = await runLbctl(["edit", "--config", tree.path("missing.yaml")], { EDITOR: "true", VISUAL: "" });
    expect(failing.exitCode).toBe(2);
  });
});
