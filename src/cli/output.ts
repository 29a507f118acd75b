/**
 * Where commands write: consola for people (colour on a terminal, plain text when piped) and raw JSON on stdout for
 * programs. Errors go to stderr. Every path escapes what a terminal would act on (printable.ts): messages and
 * tables carry names and values from the config, the kernel and the daemon.
 */

import type { ConsolaInstance } from "consola";
import { printable } from "../config/printable.ts";

/** The consola levels commands use; each message is escaped before consola colours it. */
export interface Log {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  success(message: string): void;
  debug(message: string): void;
}

export interface Output {
  log: Log;
  /** Writes one JSON document on stdout, nothing else on that line. */
  json(value: unknown): void;
  /** Writes plain lines on stdout, exactly as given (tables, schema text). */
  print(text: string): void;
}

export function createOutput(options: { debug?: boolean; stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream } = {}): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  let log: Log | undefined;
  return {
    // consola is loaded on first use: `lbctl validate --quiet` from cron, on a valid config, never writes, and loading
    // consola is a third of its run time.
    get log() {
      log ??= escaped(createLog(stdout, stderr, Boolean(options.debug)));
      return log;
    },
    json: (value) => stdout.write(`${jsonText(value)}\n`),
    print: (text) => stdout.write(printable(text.endsWith("\n") ? text : `${text}\n`, { newlines: "keep", max: Number.POSITIVE_INFINITY })),
  };
}

/**
 * JSON.stringify escapes C0 controls but writes C1 controls, line separators and bidi overrides raw; as `\uXXXX`
 * they mean the same to a parser and nothing to a terminal. Outside strings JSON is ASCII, so this touches strings only.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function escaped(consola: ConsolaInstance): Log {
  const clean = (message: string) => printable(message, { newlines: "keep", max: Number.POSITIVE_INFINITY });
  return {
    error: (message) => consola.error(clean(message)),
    warn: (message) => consola.warn(clean(message)),
    info: (message) => consola.info(clean(message)),
    success: (message) => consola.success(clean(message)),
    debug: (message) => consola.debug(clean(message)),
  };
}

function createLog(stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream, debug: boolean): ConsolaInstance {
  const colour = Boolean(stderr.isTTY) && !process.env.NO_COLOR;
  // Without a terminal, consola's basic build: the same plain lines, without loading the fancy reporter's Unicode
  // width tables (an Intl.Segmenter and large regexes, set up at load: a noticeable part of a short command's run).
  const { createConsola } = (colour ? require("consola") : require("consola/basic")) as typeof import("consola");
  return createConsola({
    // `fancy` is a runtime option of consola's node entry that its types omit: badges and colour only on a terminal.
    ...({ fancy: colour } as object),
    level: debug ? 4 : 3,
    stdout,
    stderr,
    formatOptions: { colors: colour, date: false, compact: true },
  });
}
