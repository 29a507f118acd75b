/** Loads the main file and its service files into a validated `Config`, or every problem found, located. */

import { existsSync } from "node:fs";
import * as v from "valibot";
import { EnvValue, finalSource, parseYamlSource, plainSource, type ParseResult, type YamlSource } from "./document.ts";
import { decodeConfigText } from "./encoding.ts";
import { parseFast } from "./fast-yaml.ts";
import type { Environment } from "./env.ts";
import { ConfigError, type ConfigIssue } from "./errors.ts";
import { includeMatches, readConfigFile, resolveInclude, type IncludeResult } from "./files.ts";
import { keyPermissionIssues } from "./key-permissions.ts";
import { findTooDeep, MAX_NESTING_DEPTH } from "./nesting.ts";
import type { Config, LoadedService } from "./model.ts";
import { allServices, checkRules, type ServiceSource } from "./rules.ts";
import { MainFileSchema, type MainFile } from "./schema/main.ts";
import { INVALID, quickRun, type QuickRun } from "./schema/quick-run.ts";
import { ServiceFileSchema } from "./schema/service.ts";

// Built once from the schemas' shape: valid files skip valibot's generic walk (see quick-run.ts).
const quickMainFile = quickRun(MainFileSchema);
const quickServiceFile = quickRun(ServiceFileSchema);

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
  // Both passes see the same text: each file is read once.
  const read = textReader(options.overlay);
  const fast = loadWith(parseQuickly, mainFile, options, read);
  if ((fast.ok && fast.notices.length === 0) || (!fast.ok && fast.stage !== "parsed")) return withoutStage(fast);
  return withoutStage(loadWith(parseYamlSource, mainFile, options, read));
}

type Parse = (file: string, text: string, env: Environment) => ParseResult;

const parseQuickly: Parse = (file, text, env) => {
  const fast = parseFast(text);
  if (!fast) return parseYamlSource(file, text, env);
  return fast.final ? finalSource(file, fast.data) : plainSource(file, fast.data, env);
};

/** A file's text, or the issues that keep it from being parsed (unreadable, not UTF-8, nested too deep). */
type TextOutcome = { ok: true; text: string } | { ok: false; code: "unreadable" | "invalid"; issues: ConfigIssue[] };

function textReader(overlay: LoadOptions["overlay"]): (file: string) => TextOutcome {
  const cache = new Map<string, TextOutcome>();
  return (file) => {
    let outcome = cache.get(file);
    if (!outcome) cache.set(file, (outcome = readText(file, overlay?.get(file))));
    return outcome;
  };
}

function readText(file: string, pending: string | null | undefined): TextOutcome {
  let text: string;
  if (typeof pending === "string") {
    text = pending;
  } else {
    const read = readConfigFile(file);
    if (!read.ok) return { ok: false, code: "unreadable", issues: [fileIssue(file, read.message)] };
    const decoded = decodeConfigText(read.bytes);
    if (!decoded.ok) return { ok: false, code: "invalid", issues: [{ ...fileIssue(file, decoded.message), line: decoded.line, column: decoded.column }] };
    text = decoded.text;
  }
  const deep = findTooDeep(text);
  if (deep) {
    const message = `nests collections more than ${MAX_NESTING_DEPTH} levels deep (the limit for config files): refused before parsing`;
    return { ok: false, code: "invalid", issues: [{ file, ...deep, path: "", message }] };
  }
  return { ok: true, text };
}

/** `stage` tells whether the failure came from the content (worth a second, located pass) or before it. */
type StagedResult = LoadResult & { stage?: "read" | "parsed" };

function withoutStage(result: StagedResult): LoadResult {
  const { stage: _stage, ...rest } = result;
  return rest as LoadResult;
}

/** The main file alone, parsed and validated: its source and settings, or the failure. */
function loadMain(
  parse: Parse,
  mainFile: string,
  options: LoadOptions,
  read: (file: string) => TextOutcome,
): { ok: true; mainSource: YamlSource; main: MainFile; issues: ConfigIssue[] } | (StagedResult & { ok: false }) {
  const env = options.env ?? process.env;
  const mainRead = read(mainFile);
  if (!mainRead.ok) return { ok: false, code: mainRead.code, issues: mainRead.issues, stage: "read" };
  const mainParsed = parse(mainFile, mainRead.text, env);
  if (!mainParsed.ok) return { ok: false, code: "invalid", issues: mainParsed.issues, stage: "parsed" };
  const mainSource = mainParsed.source;

  const issues: ConfigIssue[] = [];
  const mainData = mainSource.data;
  const mainObject = mainData !== null && typeof mainData === "object" && !Array.isArray(mainData) ? (mainData as Record<string, unknown>) : undefined;
  if (mainObject && "services" in mainObject) {
    issues.push({
      file: mainFile,
      ...mainSource.locateKey("services"),
      path: "services",
      message: "services are not allowed in the main file: put them in service files matched by include (default config.d/*.yaml)",
    });
    delete mainObject.services;
  }
  if (mainObject && "include" in mainObject && typeof mainObject.include !== "string" && !(mainObject.include instanceof EnvValue)) {
    issues.push({
      file: mainFile,
      ...mainSource.locate("include"),
      path: "include",
      message: `must be a file name or glob pattern as a string (e.g. config.d/*.yaml), got ${describeType(mainObject.include)}`,
    });
    delete mainObject.include;
  }
  const main = validate(MainFileSchema, quickMainFile, mainSource, issues);
  if (!main) return { ok: false, code: "invalid", issues, stage: "parsed" };
  // Issues about `services` and `include` in the main file are reported with those of the service files.
  return { ok: true, mainSource, main, issues };
}

/**
 * The main file's settings without the service files, when it is valid on its own (undefined otherwise): for a
 * decision taken before the whole config is loaded (the daemon starts the Kubernetes source only when enabled).
 */
export function loadMainSettings(mainFile: string, options: LoadOptions = {}): MainFile | undefined {
  const loaded = loadMain(parseQuickly, mainFile, options, textReader(options.overlay));
  return loaded.ok && loaded.issues.length === 0 ? loaded.main : undefined;
}

function loadWith(parse: Parse, mainFile: string, options: LoadOptions, read: (file: string) => TextOutcome): StagedResult {
  const env = options.env ?? process.env;
  const loadedMain = loadMain(parse, mainFile, options, read);
  if (!loadedMain.ok) return loadedMain;
  const { mainSource, main, issues } = loadedMain;

  const included = includedFiles(mainFile, main.include, options.overlay);
  if (!included.ok) {
    const issue = { file: mainFile, ...mainSource.locate("include"), path: "include", message: included.message };
    return { ok: false, code: included.kind === "bound" ? "invalid" : "unreadable", issues: [issue], stage: "parsed" };
  }
  const files = [mainFile];
  const serviceSources: ServiceSource[] = [];
  for (const file of included.files) {
    const text = read(file);
    if (!text.ok) {
      if (text.code === "unreadable") return { ok: false, code: "unreadable", issues: text.issues, stage: "read" };
      issues.push(...text.issues);
      continue;
    }
    files.push(file);
    const parsed = parse(file, text.text, env);
    if (!parsed.ok) {
      issues.push(...parsed.issues);
      continue;
    }
    if (parsed.source.data === null) continue; // an empty service file is allowed
    const serviceFile = validate(ServiceFileSchema, quickServiceFile, parsed.source, issues);
    if (!serviceFile) continue;
    // The schema's output is this load's own: each service takes its source in place (no copy of 5,000 services).
    const services = serviceFile.services as LoadedService[];
    for (let index = 0; index < services.length; index++) services[index]!.source = { file, index };
    serviceSources.push({ source: parsed.source, services });
  }
  if (issues.length > 0) return { ok: false, code: "invalid", issues, stage: "parsed" };

  const findings = checkRules(mainSource, main, serviceSources);
  findings.errors.push(...keyPermissionIssues(mainSource, main));
  if (findings.errors.length > 0) return { ok: false, code: "invalid", issues: findings.errors, stage: "parsed" };
  return {
    ok: true,
    config: { mainFile, files, main, services: allServices(serviceSources) },
    notices: findings.notices,
  };
}

/** Like `loadConfig`, throwing a `ConfigError` (for callers that only want a config or a failure). */
export function loadConfigOrThrow(mainFile: string, options: LoadOptions = {}): { config: Config; notices: ConfigIssue[] } {
  const result = loadConfig(mainFile, options);
  if (!result.ok) throw new ConfigError(result.code, result.issues);
  return result;
}

function includedFiles(mainFile: string, pattern: string, overlay: LoadOptions["overlay"]): IncludeResult {
  const pendingExists = (file: string) => typeof overlay?.get(file) === "string";
  const resolved = resolveInclude(mainFile, pattern, (file) => (overlay?.get(file) === null ? false : pendingExists(file) || existsSync(file)));
  if (!resolved.ok) return resolved;
  const files = new Set(resolved.files);
  for (const [file, text] of overlay ?? []) {
    if (text === null) files.delete(file);
    else if (includeMatches(mainFile, pattern, file)) files.add(file);
  }
  return { ok: true, files: [...files].sort() };
}

function validate<S extends v.GenericSchema>(
  schema: S,
  quick: QuickRun<v.InferOutput<S>>,
  source: YamlSource,
  issues: ConfigIssue[],
): v.InferOutput<S> | undefined {
  const output = quick(source.data);
  if (output !== INVALID) return output;
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

function fileIssue(file: string, message: string): ConfigIssue {
  return { file, line: 0, column: 0, path: "", message: `the file ${message}` };
}

/** What a value really is, for a key that wants a string. */
function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `the ${typeof value} ${String(value)}`;
}

export type { MainFile };
