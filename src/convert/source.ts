/**
 * How the parsers read files: an injected reader, so the grammar is tested on strings and the file system stays in
 * a thin shell (fs-reader.ts). Also the `nginx -T` dump, which is one text holding every file.
 */

import { ConvertError, type Location } from "./issues.ts";

export interface SourceReader {
  /** The text of a file, or a ConvertError("unreadable") naming why not. */
  read(path: string): string;
  /** The names in a folder (not paths), or [] when it does not exist. */
  list(folder: string): string[];
  /** Whether a path names a regular file. */
  isFile(path: string): boolean;
}

/** Files are refused past this size (16 MiB): real configs are kilobytes; a larger file is a mistake or an attack. */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** Every file read by one conversion, together. */
export const MAX_TOTAL_BYTES = 64 * 1024 * 1024;
/** Includes followed by one conversion (a glob matching thousands of files is a mistake). */
export const MAX_FILES = 4096;

/** A reader over texts held in memory (tests, stdin, the `nginx -T` dump). Paths are absolute or as given. */
export function memoryReader(files: ReadonlyMap<string, string>): SourceReader {
  return {
    read(path) {
      const text = files.get(path);
      if (text === undefined) throw new ConvertError("unreadable", `${path}: no such file${files.size > 1 ? " in the input" : ""}`);
      if (text.length > MAX_FILE_BYTES) throw new ConvertError("unreadable", `${path}: the file is ${text.length} bytes; inputs are limited to ${MAX_FILE_BYTES} bytes`);
      return text;
    },
    list(folder) {
      const prefix = folder.endsWith("/") ? folder : `${folder}/`;
      const names = new Set<string>();
      for (const path of files.keys()) {
        if (!path.startsWith(prefix)) continue;
        const rest = path.slice(prefix.length);
        const slash = rest.indexOf("/");
        names.add(slash === -1 ? rest : rest.slice(0, slash));
      }
      return [...names];
    },
    isFile: (path) => files.has(path),
  };
}

const DUMP_MARKER = /^# configuration file (.+):\r?$/;

/** Whether a text is the output of `nginx -T`: its first non-empty line is a `# configuration file PATH:` marker. */
export function isNginxDump(text: string): boolean {
  const first = text.split("\n", 50).find((line) => line.trim() !== "" && !/^nginx: /.test(line));
  return first !== undefined && DUMP_MARKER.test(first);
}

/**
 * Splits an `nginx -T` dump into its files. nginx writes each file after its marker and ends it with a newline;
 * line numbers within each part are those of the original file. The first file is the main file.
 */
export function splitNginxDump(text: string): { main: string; files: Map<string, string> } {
  const files = new Map<string, string>();
  let current: string | undefined;
  let lines: string[] = [];
  const flush = () => {
    if (current !== undefined && !files.has(current)) files.set(current, lines.join("\n"));
  };
  for (const line of text.split("\n")) {
    const marker = DUMP_MARKER.exec(line);
    if (marker) {
      flush();
      current = marker[1]!;
      lines = [];
      continue;
    }
    if (current !== undefined) lines.push(line);
  }
  flush();
  const main = files.keys().next().value;
  if (main === undefined) throw new ConvertError("syntax", "the nginx -T dump holds no '# configuration file PATH:' marker");
  return { main, files };
}

/** Include files nest at most this deep (nginx and keepalived configs nest two or three). */
export const MAX_INCLUDE_DEPTH = 64;

/** What one conversion has read so far, for the bounds on includes. */
export interface IncludeState {
  readonly reader: SourceReader;
  /** Every file read, in order. */
  readonly files: string[];
  /** Bytes read, all files together. */
  bytes: number;
  /** Files being read now, outermost first: a file that includes itself, even indirectly, is a loop. */
  readonly stack: string[];
}

/**
 * Reads one file of a config that includes others and hands its text to `parse`, within the bounds (loops, depth,
 * file count, total bytes); an error reading an included file is placed at the include that named it.
 */
export function readIncluded(state: IncludeState, file: string, includedAt: Location | undefined, parse: (text: string) => void): void {
  if (state.stack.includes(file)) {
    throw new ConvertError("syntax", `include loop: ${[...state.stack.slice(state.stack.indexOf(file)), file].join(" includes ")}`, includedAt);
  }
  if (state.stack.length >= MAX_INCLUDE_DEPTH) throw new ConvertError("syntax", `includes nested deeper than ${MAX_INCLUDE_DEPTH} files`, includedAt);
  if (state.files.length >= MAX_FILES) throw new ConvertError("syntax", `more than ${MAX_FILES} files included`, includedAt);
  let text: string;
  try {
    text = state.reader.read(file);
  } catch (error) {
    if (error instanceof ConvertError && includedAt) throw new ConvertError(error.code, error.message, includedAt);
    throw error;
  }
  state.bytes += text.length;
  if (state.bytes > MAX_TOTAL_BYTES) throw new ConvertError("unreadable", `the input and its includes exceed ${MAX_TOTAL_BYTES} bytes together`, includedAt);
  state.files.push(file);
  state.stack.push(file);
  parse(text);
  state.stack.pop();
}
