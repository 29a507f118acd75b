/** The file-system side of the parsers' SourceReader: sizes checked before reading, errors named by path. */

import { readdirSync, readFileSync, statSync } from "node:fs";
import { ConvertError } from "./issues.ts";
import { MAX_FILE_BYTES, type SourceReader } from "./source.ts";

export function fileReader(): SourceReader {
  return {
    read(path) {
      let size: number;
      try {
        const stat = statSync(path);
        if (stat.isDirectory()) throw new ConvertError("unreadable", `${path}: is a folder, not a file`);
        size = stat.size;
      } catch (error) {
        if (error instanceof ConvertError) throw error;
        throw new ConvertError("unreadable", `${path}: cannot be read (${describe(error)})`);
      }
      if (size > MAX_FILE_BYTES) throw new ConvertError("unreadable", `${path}: the file is ${size} bytes; inputs are limited to ${MAX_FILE_BYTES} bytes`);
      try {
        return readFileSync(path, "utf8");
      } catch (error) {
        throw new ConvertError("unreadable", `${path}: cannot be read (${describe(error)})`);
      }
    },
    list(folder) {
      try {
        return readdirSync(folder);
      } catch {
        return [];
      }
    },
    isFile(path) {
      try {
        return statSync(path).isFile();
      } catch {
        return false;
      }
    },
  };
}

/** Reads stdin whole, refusing more than the file limit. */
export async function readStdin(stream: AsyncIterable<Uint8Array> = process.stdin): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > MAX_FILE_BYTES) throw new ConvertError("unreadable", `stdin: more than ${MAX_FILE_BYTES} bytes; inputs are limited to that`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
