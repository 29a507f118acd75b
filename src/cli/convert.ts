/**
 * `lbctl convert nginx|keepalived --input FILE|- [--output DIR] [--dry-run] [--json] [--force] [--strict]
 * [--resolve] [--http-as-tcp] [--config MAIN]`: another load balancer's configuration as service files.
 * Exit 0 converted (warnings allowed), 1 parse error, conflict, nothing convertible or --strict with warnings,
 * 2 usage or unreadable input.
 */

import { lookup } from "node:dns/promises";
import { existsSync } from "node:fs";
import { loadConfig } from "../config/load.ts";
import { formatIssue } from "../config/errors.ts";
import { findCollisions } from "../convert/collisions.ts";
import type { ConvertedService } from "../convert/draft.ts";
import { fileReader, readStdin } from "../convert/fs-reader.ts";
import { ConvertError, formatWarning, type ConvertWarning } from "../convert/issues.ts";
import { convertKeepalived, keepalivedHostNames } from "../convert/keepalived/convert.ts";
import { convertNginx, nginxHostNames } from "../convert/nginx/convert.ts";
import { renderServiceFile } from "../convert/render.ts";
import { isNginxDump, memoryReader, splitNginxDump, type SourceReader } from "../convert/source.ts";
import { plannedPath, writeServiceFiles, type PlannedFile } from "../convert/write.ts";
import { lbctlCommand } from "./common.ts";
import { UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput, type Output } from "./output.ts";

const sharedArgs = {
  input: { type: "string", description: "The configuration to convert, or - for stdin", valueHint: "FILE" },
  output: { type: "string", description: "Folder for the service files (e.g. /etc/lbctl/config.d)", valueHint: "DIR" },
  "dry-run": { type: "boolean", description: "Print the files on stdout and the warnings on stderr; write nothing" },
  json: { type: "boolean", description: "Print one JSON object: services, files, warnings" },
  force: { type: "boolean", description: "Overwrite existing files in --output" },
  strict: { type: "boolean", description: "Any warning fails the conversion (exit 1, nothing written)" },
  resolve: { type: "boolean", description: "Look up backend host names now and write their addresses (the files say so)" },
  config: { type: "string", description: "An lbctl main file: report name and (protocol, VIP, port) collisions with its services", valueHint: "PATH" },
} as const;

interface Kind {
  name: "nginx" | "keepalived";
  convert(reader: SourceReader, main: string, options: { httpAsTcp?: boolean; resolved?: ReadonlyMap<string, readonly string[]> }): { services: ConvertedService[]; warnings: ConvertWarning[] };
  hostNames(reader: SourceReader, main: string): string[];
  /** Whether the input text holds every file itself (`nginx -T`). */
  dump?: (text: string) => { main: string; files: Map<string, string> } | undefined;
}

const nginx: Kind = {
  name: "nginx",
  convert: convertNginx,
  hostNames: nginxHostNames,
  dump: (text) => (isNginxDump(text) ? splitNginxDump(text) : undefined),
};
const keepalived: Kind = { name: "keepalived", convert: convertKeepalived, hostNames: keepalivedHostNames };

const nginxCommand = lbctlCommand({
  meta: { name: "nginx", description: "nginx stream (and, with --http-as-tcp, simple http) proxies to service files" },
  args: { ...sharedArgs, "http-as-tcp": { type: "boolean", description: "Convert http servers whose only routing is location / { proxy_pass http://UPSTREAM; } as TCP" } },
  run: ({ args }) => runConversion(nginx, { ...args, httpAsTcp: Boolean(args["http-as-tcp"]) }),
});

const keepalivedCommand = lbctlCommand({
  meta: { name: "keepalived", description: "keepalived virtual_server blocks to service files" },
  args: sharedArgs,
  run: ({ args }) => runConversion(keepalived, { ...args, httpAsTcp: false }),
});

export default lbctlCommand({
  meta: { name: "convert", description: "Convert an nginx or keepalived configuration to lbctl service files" },
  subCommands: { nginx: nginxCommand, keepalived: keepalivedCommand },
});

interface Args {
  input?: string;
  output?: string;
  "dry-run"?: boolean;
  json?: boolean;
  force?: boolean;
  strict?: boolean;
  resolve?: boolean;
  httpAsTcp: boolean;
  config?: string;
  debug?: boolean;
}

async function runConversion(kind: Kind, args: Args): Promise<number> {
  const out = createOutput({ debug: args.debug });
  if (!args.input) throw new UsageError(`convert ${kind.name} needs --input FILE (or --input - for stdin)`);
  if (!args.output && !args["dry-run"]) throw new UsageError(`convert ${kind.name} needs --output DIR, or --dry-run to print the files`);
  // Only an explicit --config asks for the collision check (not $LBCTL_CONFIG): an nginx host has no lbctl config yet.
  const explicitConfig = args.config;
  let warnings: ConvertWarning[] = [];
  try {
    const { reader, main } = await openInput(kind, args.input);
    let resolved: Map<string, string[]> | undefined;
    if (args.resolve) resolved = await resolveAll(kind.hostNames(reader, main));
    const result = kind.convert(reader, main, { httpAsTcp: args.httpAsTcp, ...(resolved ? { resolved } : {}) });
    warnings = result.warnings;
    if (result.services.length === 0) {
      throw new ConvertError("nothing", `nothing to convert in ${main}: no ${kind.name === "nginx" ? "stream server with listen and proxy_pass" : "virtual_server with an address and port"} that lbctl can program`);
    }
    const dir = args.output ?? ".";
    const date = new Date();
    const files: PlannedFile[] = result.services.map((s) => ({ path: plannedPath(dir, s.service.name), text: renderServiceFile(s, { generator: `lbctl convert ${kind.name}`, date }) }));
    if (explicitConfig) checkAgainstConfig(explicitConfig, result.services, files, Boolean(args.force));
    if (args.strict && warnings.length > 0) {
      throw new ConvertError("conflict", `--strict: ${warnings.length} warning${warnings.length === 1 ? "" : "s"}; nothing written`);
    }
    const write = !args["dry-run"];
    if (write) writeServiceFiles(dir, files, Boolean(args.force));
    if (args.json) {
      out.json({ services: result.services.map((s) => s.service), files: files.map((f) => f.path), written: write, warnings });
    } else {
      for (const warning of warnings) process.stderr.write(`${formatWarning(warning)}\n`);
      if (!write) out.print(files.map((file) => `# File: ${file.path}\n${file.text}`).join("\n"));
      const summary = `${write ? "wrote" : "would write"} ${files.length} service file${files.length === 1 ? "" : "s"}${warnings.length ? ` (${warnings.length} warning${warnings.length === 1 ? "" : "s"} above)` : ""}`;
      process.stderr.write(`${summary}${write ? `: ${files.map((f) => f.path).join(", ")}` : ""}\n`);
    }
    return ExitCode.ok;
  } catch (error) {
    if (!(error instanceof ConvertError)) throw error;
    return fail(out, error, warnings, Boolean(args.json));
  }
}

function fail(out: Output, error: ConvertError, warnings: ConvertWarning[], json: boolean): number {
  const code = error.code === "unreadable" ? ExitCode.usage : ExitCode.failed;
  if (json) {
    out.json({ services: [], files: [], written: false, warnings, error: { code: error.code, message: error.message, ...(error.location ?? {}) } });
    return code;
  }
  for (const warning of warnings) process.stderr.write(`${formatWarning(warning)}\n`);
  process.stderr.write(`lbctl: ${error.describe()}\n`);
  return code;
}

async function openInput(kind: Kind, input: string): Promise<{ reader: SourceReader; main: string }> {
  const files = fileReader();
  const text = input === "-" ? await readStdin() : files.read(input);
  const dump = kind.dump?.(text);
  if (dump) return { reader: memoryReader(dump.files), main: dump.main };
  const main = input === "-" ? "stdin" : input;
  // The main text is read once (stdin cannot be read twice); included files come from the disk.
  return { reader: { ...files, read: (path) => (path === main ? text : files.read(path)) }, main };
}

async function resolveAll(names: string[]): Promise<Map<string, string[]>> {
  const resolved = new Map<string, string[]>();
  await Promise.all(
    names.map(async (name) => {
      try {
        const addresses = await lookup(name, { all: true });
        resolved.set(name, [...new Set(addresses.map((a) => a.address))].sort());
      } catch {
        resolved.set(name, []);
      }
    }),
  );
  return resolved;
}

function checkAgainstConfig(mainFile: string, services: readonly ConvertedService[], files: readonly PlannedFile[], force: boolean): void {
  const loaded = loadConfig(mainFile);
  if (!loaded.ok) {
    const first = loaded.issues[0];
    throw new ConvertError(loaded.code === "unreadable" ? "unreadable" : "conflict", `--config ${mainFile}: ${first ? formatIssue(first) : "cannot be loaded"}`);
  }
  const replaced = new Set(force ? files.map((f) => f.path).filter((p) => existsSync(p)) : []);
  const collisions = findCollisions(loaded.config, services, replaced);
  if (collisions.length > 0) {
    throw new ConvertError("conflict", `conflicts with ${mainFile}: ${collisions.map((c) => `${c.service}: ${c.message}`).join("; ")}`);
  }
  // When the output folder is one the main file includes, the whole configuration must load with the new files.
  const overlay = new Map(files.map((f) => [f.path, f.text] as [string, string]));
  const combined = loadConfig(mainFile, { overlay });
  if (!combined.ok) throw new ConvertError("conflict", `with the converted files, ${mainFile} would not validate: ${combined.issues.map(formatIssue).join("; ")}`);
}
