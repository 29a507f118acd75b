/**
 * The shell session in-process: a service changed on disk while a session had it pending is a conflict at commit
 * (nothing written); the idle timeout drops the pending changes and gives the lock back; delete and re-create.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { CommandDef } from "citty";
import { ShellSession } from "../../src/cli/_shell-session.ts";
import { shellTree, WEB, type ShellTree } from "./support/fixture.ts";

let tree: ShellTree | undefined;
afterEach(() => {
  tree?.remove();
  tree = undefined;
});

function session(): { shell: ShellSession; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const unused = {} as CommandDef;
  const shell = new ShellSession(tree!.main, { info: (t) => out.push(t), error: (t) => err.push(t) }, { status: unused, doctor: unused, reload: unused });
  return { shell, out, err };
}

async function run(shell: ShellSession, ...lines: string[]): Promise<number[]> {
  const codes: number[] = [];
  for (const line of lines) codes.push(await shell.run(line));
  return codes;
}

describe("shell session", () => {
  test("a service changed on disk since the session opened it: commit refuses, nothing written", async () => {
    tree = shellTree();
    const { shell, err } = session();
    expect(await run(shell, "configure", "service web", "backend 10.0.0.5", "exit")).toEqual([0, 0, 0, 0]);
    const edited = WEB.replace("10.0.0.1", "10.0.0.6");
    writeFileSync(tree.path("config.d/web.yaml"), edited);
    expect(await run(shell, "commit")).toEqual([1]);
    expect(err.join("\n")).toContain(`error: Cannot commit: service web changed in ${tree.path("config.d/web.yaml")} since this session opened it: abort and edit it again`);
    expect(readFileSync(tree.path("config.d/web.yaml"), "utf8")).toBe(edited);
    shell.leaveConfig();
  });

  test("the idle timeout drops the pending changes and releases the lock; the next configure starts afresh", async () => {
    tree = shellTree();
    const { shell, out } = session();
    await run(shell, "configure", "service web", "backend 10.0.0.5");
    expect(existsSync(tree.lock)).toBe(true);
    shell.expireIdle();
    expect(out.at(-1)).toBe("Session idle for 10 minutes: pending changes dropped, configuration lock released.");
    expect(shell.mode).toBe("root");
    expect(existsSync(tree.lock)).toBe(false);
    await run(shell, "configure", "show");
    expect(out.at(-1)).toBe("No pending changes.");
    shell.leaveConfig();
  });

  test("delete then service NAME again starts a new draft that replaces the one on disk", async () => {
    tree = shellTree();
    const { shell, out } = session();
    expect(await run(shell, "configure", "delete web", "service web", "ports 81", "exit", "delete nope")).toEqual([0, 0, 0, 0, 0, 1]);
    await run(shell, "show");
    expect(out.join("\n")).toContain("~ service web (modified,");
    expect(await run(shell, "commit")).toEqual([0]);
    expect(readFileSync(tree.path("config.d/web.yaml"), "utf8")).toBe("# the web tier (this comment must survive commits)\nservices:\n  - name: web\n    ports:\n      - 81\n");
    shell.leaveConfig();
  });
});
