/**
 * Reads the shipped systemd unit (dist/lbctl.service) and systemd's syscall groups, so the tests that emulate or
 * rate the unit follow what it really says instead of a copy.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";

export const UNIT_PATH = join(import.meta.dir, "../../dist/lbctl.service");

/** Every `Key=value` of the unit's [Service] section, in order (keys may repeat). */
export function serviceDirectives(path = UNIT_PATH): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let section = "";
  for (const raw of readFileSync(path, "utf8").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf("=");
    if (section === "Service" && eq > 0) out.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return out;
}

export function directiveValues(key: string, path = UNIT_PATH): string[] {
  return serviceDirectives(path)
    .filter(([k]) => k === key)
    .map(([, value]) => value);
}

/** `systemd-analyze syscall-filter` output → group name → its lines (syscalls and nested @groups). */
export function parseSyscallGroups(text: string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of text.split("\n")) {
    if (/^@\S+/.test(raw)) {
      current = [];
      groups.set(raw.trim(), current);
    } else if (current && /^\s+[@a-z_0-9]/.test(raw) && !raw.trim().startsWith("#")) {
      current.push(raw.trim());
    }
  }
  return groups;
}

export function expandGroup(groups: Map<string, string[]>, name: string, seen = new Set<string>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(name)) return out;
  seen.add(name);
  const members = groups.get(name);
  if (!members) throw new Error(`systemd-analyze knows no syscall group ${name}`);
  for (const member of members) {
    if (member.startsWith("@")) for (const call of expandGroup(groups, member, seen)) out.add(call);
    else out.add(member);
  }
  return out;
}

/**
 * The syscalls the unit's SystemCallFilter= lines allow: the first (allow) list, minus every `~` (deny) list, as
 * systemd combines them.
 */
export function allowedSyscalls(groups: Map<string, string[]>, filters: string[]): Set<string> {
  const resolve = (words: string[]) => {
    const set = new Set<string>();
    for (const word of words) for (const call of word.startsWith("@") ? expandGroup(groups, word) : [word]) set.add(call);
    return set;
  };
  let allowed: Set<string> | undefined;
  for (const filter of filters) {
    const deny = filter.startsWith("~");
    const words = (deny ? filter.slice(1) : filter).trim().split(/\s+/);
    if (!deny) {
      const add = resolve(words);
      allowed = allowed ? new Set([...allowed, ...add]) : add;
    } else {
      if (!allowed) throw new Error("a deny-only SystemCallFilter= is not emulated");
      for (const call of resolve(words)) allowed.delete(call);
    }
  }
  if (!allowed) throw new Error("the unit has no SystemCallFilter=");
  return allowed;
}
