/** The replicated set of a node: the files its main file's `include` matches, by path relative to the main file. */

import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { includeMatches, resolveInclude } from "../config/files.ts";
import { sha256Hex } from "./digest.ts";
import type { IncludeMatcher } from "./paths.ts";

export interface SetFile {
  content: Uint8Array;
  checksum: string;
}

export function mainFolder(mainFile: string): string {
  return dirname(resolve(mainFile));
}

export function includeMatcher(mainFile: string, include: string): IncludeMatcher {
  return (path) => includeMatches(mainFile, include, resolve(mainFolder(mainFile), path));
}

/** Reads every matched file now. Files outside the main file's folder cannot be replicated and are an error. */
export function readReplicatedSet(mainFile: string, include: string): Map<string, SetFile> {
  const resolved = resolveInclude(mainFile, include);
  if (!resolved.ok) throw new Error(`include ${include}: ${resolved.message}`);
  const set = new Map<string, SetFile>();
  for (const file of resolved.files) {
    const path = relative(mainFolder(mainFile), file);
    if (path.startsWith("../")) throw new Error(`${file} is outside ${mainFolder(mainFile)}: only files below the main file's folder are replicated`);
    const content = new Uint8Array(readFileSync(file));
    set.set(path, { content, checksum: sha256Hex(content) });
  }
  return set;
}

export function checksums(set: ReadonlyMap<string, SetFile>): Map<string, string> {
  return new Map([...set].map(([path, file]) => [path, file.checksum]));
}
