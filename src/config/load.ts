/** Loads the main file and its service files into a validated `Config`, or every problem found, located. */

import * as v from "valibot";
import { parseYamlSource, plainSource, type ParseResult, type YamlSource } from "./document.ts";
import { parseFast } from "./fast-yaml.ts";
import type { Environment } from "./env.ts";
import { ConfigError, type ConfigIssue } from "./errors.ts";
import { includeMatches, readConfigFile, resolveInclude } from "./files.ts";
import { keyPermissionIssues } from "./key-permissions.ts";
import type { Config, LoadedService } from "./model.ts";
import { checkRules, type ServiceSource } from "./rules.ts";
import { MainFileSchema, type MainFile } from "./schema/main.ts";
import { ServiceFileSchema } from "./schema/service.ts";

export interface LoadOptions {
  env?: Environment;
  /**
   * Service files to validate as if they were on disk already (absolute path → text, null = removed): lets a writer
   * check the whole configuration with a new file in place before it writes anything.
   */
  overlay?: ReadonlyMap<string, string | null>;
}

export type LoadResult =
  | { ok: true; config: Config; notices: ConfigIssue[] }
  | { ok: false; code: "unreadable" | "invalid"; issues: ConfigIssue[] };

export function loadConfig(mainFile: string, options: LoadOptions = {}): LoadResult {
  // Valid files take the fast path; any problem or notice is re-checked on the slow path, which reports positions.
  const fast = loadWith(parseQuickly, mainFile, options);
  if ((fast.ok && fast.notices.length === 0) || (!fast.ok && fast.code === "unreadable")) return fast;
  return loadWith(parseYamlSource, mainFile, options);
}

type Parse = (file: string, text: string, env: Environment) => ParseResult;

const parseQuickly: Parse = (file, text, env) => {
  const fast = parseFast(text);
  return fast ? plainSource(file, fast.data, env) : parseYamlSource(file, text, env);
};

function loadWith(parse: Parse, mainFile: string, options: LoadOptions): LoadResult {
  const env = options.env ?? process.env;
  const mainRead = readConfigFile(mainFile);
  if (!mainRead.ok) return unreadable(mainFile, mainRead.message);
  const mainParsed = parse(mainFile, mainRead.text, env);
  if (!mainParsed.ok) return { ok: false, code: "invalid", issues: mainParsed.issues };
  const mainSource = mainParsed.source;

  const issues: ConfigIssue[] = [];
  const mainData = mainSource.data;
  if (mainData !== null && typeof mainData === "object" && !Array.isArray(mainData) && "services" in mainData) {
    issues.push({
      file: mainFile,
      ...mainSource.locateKey("services"),
      path: "services",
      message: "services are not allowed in the main file: put them in service files matched by include (default config.d/*.yaml)",
    });
    delete (mainData as Record<string, unknown>).services;
  }
  const main = validate(MainFileSchema, mainSource, issues);
  if (!main) return { ok: false, code: "invalid", issues };

  const files = [mainFile];
  const serviceSources: ServiceSource[] = [];
  for (const file of includedFiles(mainFile, main.include, options.overlay)) {
    const pending = options.overlay?.get(file);
    const read = typeof pending === "string" ? ({ ok: true, text: pending } as const) : readConfigFile(file);
    if (!read.ok) return unreadable(file, read.message);
    files.push(file);
    const parsed = parse(file, read.text, env);
    if (!parsed.ok) {
      issues.push(...parsed.issues);
      continue;
    }
    if (parsed.source.data === null) continue; // an empty service file is allowed
    const serviceFile = validate(ServiceFileSchema, parsed.source, issues);
    if (!serviceFile) continue;
    const services: LoadedService[] = serviceFile.services.map((service, index) => ({ ...service, source: { file, index } }));
    serviceSources.push({ source: parsed.source, services });
  }
  if (issues.length > 0) return { ok: false, code: "invalid", issues };

  const findings = checkRules(mainSource, main, serviceSources);
  findings.errors.push(...keyPermissionIssues(mainSource, main));
  if (findings.errors.length > 0) return { ok: false, code: "invalid", issues: findings.errors };
  return {
    ok: true,
    config: { mainFile, files, main, services: serviceSources.flatMap((s) => s.services) },
    notices: findings.notices,
  };
}

/** Like `loadConfig`, throwing a `ConfigError` (for callers that only want a config or a failure). */
export function loadConfigOrThrow(mainFile: string, options: LoadOptions = {}): { config: Config; notices: ConfigIssue[] } {
  const result = loadConfig(mainFile, options);
  if (!result.ok) throw new ConfigError(result.code, result.issues);
  return result;
}

function includedFiles(mainFile: string, pattern: string, overlay: LoadOptions["overlay"]): string[] {
  const files = new Set(resolveInclude(mainFile, pattern));
  for (const [file, text] of overlay ?? []) {
    if (text === null) files.delete(file);
    else if (includeMatches(mainFile, pattern, file)) files.add(file);
  }
  return [...files].sort();
}

function validate<S extends v.GenericSchema>(schema: S, source: YamlSource, issues: ConfigIssue[]): v.InferOutput<S> | undefined {
  const result = v.safeParse(schema, source.data, { abortEarly: false });
  if (result.success) return result.output;
  for (const issue of result.issues) issues.push(locateIssue(source, issue));
  return undefined;
}

function locateIssue(source: YamlSource, issue: v.BaseIssue<unknown>): ConfigIssue {
  const path = dotPath(issue);
  const unknownKey = issue.type === "strict_object" && issue.expected === "never";
  const position = unknownKey ? source.locateKey(path) : source.locate(path);
  return { file: source.file, ...position, path, message: issue.message };
}

function dotPath(issue: v.BaseIssue<unknown>): string {
  let path = "";
  for (const item of issue.path ?? []) {
    const key = item.key;
    if (typeof key === "number") path += `[${key}]`;
    else path += path === "" ? String(key) : `.${String(key)}`;
  }
  return path;
}

function unreadable(file: string, message: string): LoadResult {
  return { ok: false, code: "unreadable", issues: [{ file, line: 0, column: 0, path: "", message: `the file ${message}` }] };
}

export type { MainFile };
