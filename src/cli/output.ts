/**
 * Where commands write: consola for people (colour on a terminal, plain text when piped) and raw JSON on stdout for
 * programs. Errors go to stderr.
 */

import type { ConsolaInstance } from "consola";

export interface Output {
  log: ConsolaInstance;
  /** Writes one JSON document on stdout, nothing else on that line. */
  json(value: unknown): void;
  /** Writes plain lines on stdout, exactly as given (tables, schema text). */
  print(text: string): void;
}

export function createOutput(options: { debug?: boolean; stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream } = {}): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  let log: ConsolaInstance | undefined;
  return {
    // consola is loaded on first use: `lbctl validate --quiet` from cron, on a valid config, never writes, and loading
    // consola is a third of its run time.
    get log() {
      log ??= createLog(stdout, stderr, Boolean(options.debug));
      return log;
    },
    json: (value) => stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    print: (text) => stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  };
}

function createLog(stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream, debug: boolean): ConsolaInstance {
  const { createConsola } = require("consola") as typeof import("consola");
  const colour = Boolean(stderr.isTTY) && !process.env.NO_COLOR;
  return createConsola({
    // `fancy` is a runtime option of consola's node entry that its types omit: badges and colour only on a terminal.
    ...({ fancy: colour } as object),
    level: debug ? 4 : 3,
    stdout,
    stderr,
    formatOptions: { colors: colour, date: false, compact: true },
  });
}
