/**
 * lbctl completion: the candidates `lbctl __complete` gives the scripts, and the bash script loaded into a real bash
 * on a terminal (tmux) completing commands, service names from the config and --config paths.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { runLbctl } from "../support/run-lbctl.ts";
import { lbctlOnPath, shellTree, type ShellTree } from "../shell/support/fixture.ts";
import { skipPty, Terminal } from "../shell/support/tmux.ts";

let tree: ShellTree | undefined;
const terminals: Terminal[] = [];

afterEach(() => {
  for (const t of terminals.splice(0)) t.close();
  tree?.remove();
  tree = undefined;
});

async function complete(...words: string[]): Promise<string[]> {
  const run = await runLbctl(["__complete", "--", ...words]);
  expect(run.exitCode).toBe(0);
  return run.stdout.split("\n").filter(Boolean);
}

describe("lbctl __complete", () => {
  test("commands, flags, fixed values, service and backend names from the config", async () => {
    tree = shellTree();
    const commands = await complete("");
    expect(commands).toEqual(expect.arrayContaining(["apply", "completion", "edit", "shell", "status", "validate"]));
    expect(commands.some((c) => c.startsWith("_"))).toBe(false);
    expect(await complete("st")).toEqual(["status"]);
    expect(await complete("setup", "c")).toEqual(["certs"]);
    expect(await complete("status", "--")).toEqual(["--config", "--debug", "--help", "--json", "--stats"]);
    expect(await complete("completion", "")).toEqual(["bash", "fish", "zsh"]);
    expect(await complete("edit", "--config", tree.main, "")).toEqual(["dns", "web"]);
    expect(await complete("--config", tree.main, "edit", "w")).toEqual(["web"]);
    // --config wants a path: the shell completes files, lbctl offers nothing.
    expect(await complete("status", "--config", "")).toEqual([]);
  });

  test("the scripts: bash passes bash -n; each names lbctl and asks __complete", async () => {
    for (const shell of ["bash", "zsh", "fish"]) {
      const run = await runLbctl(["completion", shell]);
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toContain("__complete");
      expect(run.stdout).toContain("lbctl");
    }
    const bash = await runLbctl(["completion", "bash"]);
    const check = Bun.spawnSync(["bash", "-n"], { stdin: new TextEncoder().encode(bash.stdout), stderr: "pipe" });
    expect(check.stderr.toString()).toBe("");
    expect(check.exitCode).toBe(0);
    const wrong = await runLbctl(["completion", "tcsh"]);
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toContain('No completion for "tcsh": choose bash, zsh or fish');
  });
});

describe.skipIf(skipPty)("bash completion in a real bash", () => {
  test("Tab completes commands, service names and --config paths", async () => {
    tree = shellTree();
    const bin = lbctlOnPath(tree.dir);
    const t = Terminal.start(["bash", "--norc", "--noprofile"], { PATH: `${bin}:${process.env.PATH}`, PS1: "bash$ " }, tree.dir);
    terminals.push(t);
    await t.waitFor("bash$ ");
    t.line("source <(lbctl completion bash) && echo loaded");
    await t.waitFor("loaded\nbash$");
    await t.typeEchoed("lbctl va");
    await t.keys("Tab");
    await t.waitFor("bash$ lbctl validate ");
    await t.clearLine("bash$");
    await t.typeEchoed(`lbctl edit --config ${tree.main} `);
    await t.keys("Tab");
    await Bun.sleep(400);
    await t.keys("Tab");
    await t.waitFor(/dns\s+web/);
    await t.typeEchoed("w");
    await t.keys("Tab");
    await t.waitFor(`edit --config ${tree.main} web `);
    await t.clearLine("bash$");
    // Files: config.d/ and config.yaml share "config."; then "y" makes it one.
    await t.typeEchoed("lbctl status --config conf");
    await t.keys("Tab");
    await t.waitFor("bash$ lbctl status --config config.");
    await t.typeEchoed("y");
    await t.keys("Tab");
    await t.waitFor("bash$ lbctl status --config config.yaml ");
  }, 60_000);
});
