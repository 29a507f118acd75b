/**
 * `lbctl edit [SERVICE]`: visudo for lbctl. Opens a temporary copy of the service's file (or of the main file) in
 * $VISUAL / $EDITOR (else vi); on save validates the whole configuration with the copy in place; an invalid edit
 * shows the located errors and offers to edit again or discard; a valid one shows the plan, is written atomically
 * and the daemon reloads. Holds the configuration lock meanwhile, as the shell's config mode does.
 */

import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import * as readline from "node:readline";
import { ConfigError } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/model.ts";
import { printable } from "../config/printable.ts";
import { lineDiff } from "../shell/line-diff.ts";
import { acquireLock, lockPath } from "./_config-lock.ts";
import { commitEdits, refuseOnSecondary, validateEdits, type Printer } from "./_config-commit.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";

export default lbctlCommand({
  meta: { name: "edit", description: "Edit a service's file (or the main file) in $VISUAL/$EDITOR; validated before it is written" },
  args: {
    service: { type: "positional", required: false, description: "The service whose file to edit, or a config file's path (default: the main file)" },
  },
  async run({ args }) {
    const mainFile = configPath(args);
    const loaded = loadConfig(mainFile);
    if (!loaded.ok && loaded.code === "unreadable") throw new ConfigError(loaded.code, loaded.issues);
    const config = loaded.ok ? loaded.config : undefined;
    if (config) refuseOnSecondary(config, "lbctl edit");
    const target = targetFile(mainFile, args.service ? String(args.service) : undefined, config);
    const print: Printer = {
      info: (text) => void process.stdout.write(`${printable(text, { newlines: "keep", max: Number.POSITIVE_INFINITY })}\n`),
      error: (text) => void process.stderr.write(`${printable(text, { newlines: "keep", max: Number.POSITIVE_INFINITY })}\n`),
    };
    const lock = acquireLock(config ? lockPath(config) : "/run/lbctl/config.lock", "edit", print.info);
    const folder = mkdtempSync(join(tmpdir(), "lbctl-edit-"));
    const copy = join(folder, basename(target));
    let keep = false;
    try {
      copyFileSync(target, copy);
      const original = readFileSync(target, "utf8");
      for (;;) {
        await runEditor(copy);
        const text = readFileSync(copy, "utf8");
        if (text === original) {
          print.info(`No changes: ${target} is untouched.`);
          return ExitCode.ok;
        }
        const edits = new Map([[target, text]]);
        const result = validateEdits(mainFile, edits, print);
        if (!result.ok) {
          const answer = await ask(`${target} would make the configuration invalid. (e)dit again or (d)iscard? `);
          if (answer === "e") continue;
          print.error(`Discarded: ${target} is untouched.`);
          return ExitCode.failed;
        }
        print.info(`Changes to ${target}:`);
        for (const line of lineDiff(original.split("\n"), text.split("\n"))) if (!line.startsWith(" ")) print.info(line);
        const code = await commitEdits({ mainFile, edits, before: config, lock, print, origin: "edit" });
        if (code !== ExitCode.ok) {
          keep = true;
          print.error(`Your edit is kept in ${copy}`);
        }
        return code;
      }
    } finally {
      lock.release();
      if (!keep) rmSync(folder, { recursive: true, force: true });
    }
  },
});

/** The file that defines SERVICE, the path given, or the main file. */
function targetFile(mainFile: string, wanted: string | undefined, config: Config | undefined): string {
  if (!wanted) return resolve(mainFile);
  if (wanted.includes("/")) {
    const path = resolve(wanted);
    if (config && !config.files.map((f) => resolve(f)).includes(path)) throw new CliError(`${path} is not one of the configuration's files (${config.files.join(", ")})`);
    return path;
  }
  if (!config) throw new CliError(`The configuration is invalid now, so service ${wanted} cannot be found: run lbctl edit with the path of its file, or lbctl edit alone for the main file`);
  const service = config.services.find((s) => s.name === wanted);
  if (!service) throw new CliError(`No service ${wanted} in ${mainFile} (services: ${config.services.map((s) => s.name).join(", ") || "none"})`);
  return service.source.file;
}

/** $VISUAL, else $EDITOR, else vi; through sh so that "code --wait" works as it does for git. */
async function runEditor(file: string): Promise<void> {
  const editor = process.env.VISUAL || process.env.EDITOR || "vi";
  const proc = Bun.spawn(["sh", "-c", `${editor} "$1"`, "lbctl-edit", file], { stdio: ["inherit", "inherit", "inherit"] });
  const code = await proc.exited;
  if (code !== 0) throw new CliError(`The editor (${editor}) exited with status ${code}: nothing written`);
}

/** One answer letter from stdin; end of input means discard. */
async function ask(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: Boolean(process.stdin.isTTY) });
  try {
    const answer = await new Promise<string | undefined>((done) => {
      rl.once("close", () => done(undefined));
      rl.question(question, done);
    });
    if (answer === undefined) process.stdout.write("\n");
    return (answer ?? "d").trim().toLowerCase().slice(0, 1) || "d";
  } finally {
    rl.close();
  }
}
