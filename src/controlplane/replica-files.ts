/** The replicated set of a node: the files its main file's `include` matches, by path relative to the main file. */

import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { parse } from "yaml";
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

/** Where a secondary keeps its write journal: the include pattern's folder before its first glob segment. */
export function journalFolder(mainFile: string, include: string): string {
  const absolute = isAbsolute(include) ? include : join(mainFolder(mainFile), include);
  const parts = absolute.split("/");
  const firstGlob = parts.findIndex((part) => /[*?[\]{}]/.test(part));
  return firstGlob < 0 ? dirname(absolute) : parts.slice(0, firstGlob).join("/") || "/";
}

/** The journal folder before the config is loaded (a crash recovery at start): `include` read from the main file. */
export function journalFolderAtStart(mainFile: string): string {
  let include = "config.d/*.yaml";
  try {
    const data = parse(readFileSync(mainFile, "utf8")) as { include?: unknown } | null;
    if (typeof data?.include === "string" && data.include !== "") include = data.include;
  } catch {
    // the daemon's own load reports an unreadable or invalid main file
  }
  return journalFolder(mainFile, include);
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
