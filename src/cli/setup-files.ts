/** `lbctl setup files [--root DIR] [--dry-run]`: writes the files embedded in the binary (unit, example config, modules list). */

import { isAbsolute } from "node:path";
import { writeShippedFiles } from "../system/shipped-files.ts";
import { lbctlCommand } from "./common.ts";
import { CliError, UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput } from "./output.ts";

const VERBS = { created: "created", updated: "updated", unchanged: "unchanged", kept: "kept (exists; config is never overwritten)" } as const;

export default lbctlCommand({
  meta: { name: "files", description: "Write the shipped files: systemd unit, /etc/lbctl/config.yaml (when absent), examples, modules-load list (when absent)" },
  args: {
    root: { type: "string", description: "Write under this folder instead of / (a chroot, an image)", valueHint: "DIR" },
    "dry-run": { type: "boolean", description: "Say what would be written, write nothing" },
  },
  run({ args }) {
    const out = createOutput({ debug: args.debug });
    const root = args.root ?? "/";
    if (!isAbsolute(root)) throw new UsageError(`--root must be an absolute path, got "${root}"`);
    const dryRun = Boolean(args["dry-run"]);
    let outcomes;
    try {
      outcomes = writeShippedFiles(root, { dryRun });
    } catch (error) {
      throw new CliError(`Writing the shipped files under ${root} failed: ${(error as Error).message}`);
    }
    for (const outcome of outcomes) {
      out.print(`${dryRun && outcome.action !== "unchanged" && outcome.action !== "kept" ? "would be " : ""}${VERBS[outcome.action]}: ${outcome.path} (${outcome.what})`);
    }
    return ExitCode.ok;
  },
});
