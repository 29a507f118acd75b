/**
 * `lbctl shell` (and `lbctl` alone on a terminal): the operator's router-style shell. On a terminal: line editing,
 * history kept per user in state_dir, Tab completion and `?` help. With a stdin that is not a terminal: the same
 * commands as a script, one a line, stopping at the first error with its line number. The commands: docs/shell.md.
 */

import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as readline from "node:readline";
import { loadConfig } from "../config/load.ts";
import { printable } from "../config/printable.ts";
import { writeFileAtomic } from "../system/atomic-file.ts";
import { currentUser } from "./_config-lock.ts";
import type { Printer } from "./_config-commit.ts";
import { ShellSession } from "./_shell-session.ts";
import { configPath, lbctlCommand } from "./common.ts";
import doctor from "./doctor.ts";
import { ExitCode } from "./exit-codes.ts";
import reload from "./reload.ts";
import status from "./status.ts";

const HISTORY_LINES = 1000;

export default lbctlCommand({
  meta: { name: "shell", description: "Interactive shell: show, configure, commit (reads commands from stdin when it is not a terminal)" },
  async run({ args }) {
    const file = configPath(args);
    const interactive = Boolean(process.stdin.isTTY);
    const colour = interactive && Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
    const line = { number: 0 };
    const print: Printer = {
      info: (text) => void process.stdout.write(`${printable(text, { newlines: "keep", max: Number.POSITIVE_INFINITY })}\n`),
      error: (text) => {
        const where = interactive ? "" : `line ${line.number}: `;
        const body = printable(`${where}${text}`, { newlines: "keep", max: Number.POSITIVE_INFINITY });
        process.stderr.write(colour ? `\u001b[31m${body}\u001b[0m\n` : `${body}\n`);
      },
      audit: (text) => void process.stderr.write(`${printable(text, { newlines: "keep", max: Number.POSITIVE_INFINITY })}\n`),
    };
    const session = new ShellSession(file, print, { status, doctor, reload });
    return interactive ? terminal(session, file) : script(session, line, print);
  },
});

/** Script mode: every line runs as typed; the first failure stops the script with its exit code. */
async function script(session: ShellSession, line: { number: number }, print: Printer): Promise<number> {
  const text = await new Response(Bun.stdin.stream()).text();
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  try {
    for (const [index, content] of lines.entries()) {
      line.number = index + 1;
      const code = await session.run(content.replace(/\r$/, ""));
      if (code !== ExitCode.ok) return code;
      if (session.done) return ExitCode.ok;
    }
    if (session.mode !== "root") {
      line.number = lines.length;
      print.error("error: the script ended in config mode: its pending changes are dropped (end it with commit and exit)");
      return ExitCode.failed;
    }
    return ExitCode.ok;
  } finally {
    session.leaveConfig("");
  }
}

async function terminal(session: ShellSession, file: string): Promise<number> {
  const history = historyFile(file);
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: true,
    history: history ? readHistory(history) : [],
    historySize: HISTORY_LINES,
    removeHistoryDuplicates: true,
    completer: (text: string) => session.complete(text),
  });
  const idle = idleTimer(session, rl);
  // `?` answers at once, as in router CLIs: the help for the line so far, then the same line again to go on typing.
  const showHelp = () => {
    process.stdout.write("\n");
    session.help(rl.line);
    rl.prompt(true);
  };
  const onKey = interceptQuestionMark(rl, showHelp)
    ? () => {}
    : (key: string | undefined) => {
        if (key === "?") setImmediate(() => (rl.write(null, { name: "backspace" }), showHelp()));
      };
  process.stdin.on("keypress", onKey);
  const finish = () => session.leaveConfig();
  process.once("SIGTERM", () => rl.close());
  process.once("SIGHUP", () => rl.close());
  rl.on("SIGINT", () => {
    // Ctrl-C drops the line being typed, as a shell does; Ctrl-D or exit leaves.
    process.stdout.write("^C\n");
    rl.write(null, { ctrl: true, name: "u" });
    rl.prompt();
  });
  rl.setPrompt(session.prompt);
  rl.prompt();
  return new Promise<number>((done) => {
    let busy = Promise.resolve();
    rl.on("line", (text) => {
      rl.pause();
      busy = busy.then(async () => {
        idle.stop();
        try {
          await session.run(text);
        } catch (error) {
          process.stderr.write(`error: ${printable((error as Error).message)}\n`);
        }
        if (history) writeHistory(history, (rl as unknown as { history: string[] }).history);
        if (session.done) return void rl.close();
        if (session.mode !== "root") idle.start();
        rl.setPrompt(session.prompt);
        rl.resume();
        rl.prompt();
      });
    });
    rl.on("close", () => {
      void busy.then(() => {
        idle.stop();
        process.stdin.off("keypress", onKey);
        finish();
        if (!session.done) process.stdout.write("\n");
        done(ExitCode.ok);
      });
    });
  });
}

/**
 * Takes `?` before readline inserts it (a typed `?` inside quotes is text). readline has no public hook for a key, so
 * this wraps its key handler (the `_ttyWrite` symbol of Node's and Bun's readline); false when there is none, and the
 * caller falls back to removing the inserted `?` after the fact.
 */
function interceptQuestionMark(rl: readline.Interface, showHelp: () => void): boolean {
  const handlerKey = Object.getOwnPropertySymbols(Object.getPrototypeOf(rl)).find((s) => s.description === "_ttyWrite");
  const target = rl as unknown as Record<symbol, (text: string, key: unknown) => void>;
  if (!handlerKey || typeof target[handlerKey] !== "function") return false;
  const original = target[handlerKey]!;
  const wrapped = function (this: unknown, text: string, key: unknown) {
    const quotes = (rl.line.slice(0, rl.cursor).match(/["']/g) ?? []).length;
    if (text === "?" && quotes % 2 === 0) return showHelp();
    return original.call(this, text, key);
  };
  try {
    // The prototype's property is read-only: an own property of this interface shadows it.
    Object.defineProperty(rl, handlerKey, { value: wrapped, configurable: true, writable: true });
    return true;
  } catch {
    return false;
  }
}

/** Config mode gives its lock up after system.lock_idle_timeout_minutes without a command. */
function idleTimer(session: ShellSession, rl: readline.Interface): { start(): void; stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    start() {
      timer = setTimeout(() => {
        process.stdout.write("\n");
        session.expireIdle();
        rl.setPrompt(session.prompt);
        rl.prompt();
      }, session.idleMinutes * 60_000);
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** `<state_dir>/shell-history/<user>`, or none when state_dir is not writable for this user. */
function historyFile(file: string): string | undefined {
  const loaded = loadConfig(file);
  const stateDir = loaded.ok ? loaded.config.main.system.state_dir : "/var/lib/lbctl";
  const folder = join(stateDir, "shell-history");
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    return join(folder, currentUser().replace(/[^A-Za-z0-9_.-]/g, "_"));
  } catch {
    return undefined;
  }
}

function readHistory(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n").filter(Boolean).reverse().slice(0, HISTORY_LINES);
  } catch {
    return [];
  }
}

/** readline keeps the newest line first; the file keeps the oldest first, as shells do. */
function writeHistory(path: string, lines: readonly string[]): void {
  try {
    writeFileAtomic(path, `${[...lines].reverse().join("\n")}\n`, { mode: 0o600 });
  } catch {
    // History is a convenience: a full disk must not break the session.
  }
}
