/**
 * Mutations of one YAML text, each small and each aimed at a way real files go wrong: typos and stray bytes,
 * lines lost, doubled or moved, wrong indentation, values of the wrong kind or range, YAML features (anchors,
 * tags, flow collections, documents), environment references, huge values, nesting, encodings.
 */

import type { Random } from "./prng.ts";

/** Inputs stay below this size: the harness looks for wrong answers and crashes, not for the size limits. */
export const MAX_INPUT_CHARS = 256 * 1024;

export type Mutator = (text: string, random: Random, donors: readonly string[]) => string;

const VALUES = [
  "", "~", "null", "-1", "0", "1", "65535", "65536", "4294967296", "1e400", "-0", "0x1F", "0o17", ".inf", ".nan", "1_000",
  "true", "false", "YES", "on", "off", "y", "!!binary aGVsbG8=", "!!str 5", "!!int x", "!!map {}", "[]", "{}", "[1, 2", "{a: 1",
  "'unterminated", '"\\e]0;title\\a"', '"\\x9b2J"', '"\\u202e"', '"\\0"', "::ffff:10.0.0.1", "10.0.0.256", "fe80::1%eth0",
  "2001:db8::/32", "192.0.2.10/24", "1-65535", '"80-79"', '"0-1"', "${HOME}", "${UNSET_LBCTL_FUZZ}", "$${X}", "*nowhere",
  "&anchor value", "999999999999999999999999", "|\n  block\n", ">-\n  folded\n", "\t", "a: b: c", "- - -", "[[[]]]", "{{}}",
  "http://[::1", "host:99999", "äöü", "😀", "\u0000", "\ufeff", "rr", "wrr", "mh", "twos", "nat", "dr", "tun", "tcp", "udp", "both",
];

const TOKENS = [
  ":", ": ", "- ", "{", "}", "[", "]", ",", "#", "&a ", "*a", "!!map ", "!!binary ", "? ", "---\n", "...\n", "\t", '"', "'", "\\",
  "%YAML 1.2\n", "<<: *a\n", "${X}", "\u0000", "\ufeff", "\u202e", "\r", "\n  - ", "\n    ", "@", "`", "|", ">", "\u0085", "\u2028",
];

function lines(text: string): string[] {
  return text.split("\n");
}

function lineIndex(all: readonly string[], random: Random): number {
  return random.below(Math.max(1, all.length));
}

const flipChar: Mutator = (text, random) => {
  if (!text) return String.fromCharCode(random.below(256));
  const at = random.below(text.length);
  const ch = random.chance(0.7) ? String.fromCharCode(random.below(256)) : String.fromCodePoint(random.below(0x2fff));
  return text.slice(0, at) + ch + text.slice(at + 1);
};

const deleteLine: Mutator = (text, random) => {
  const all = lines(text);
  all.splice(lineIndex(all, random), 1);
  return all.join("\n");
};

const duplicateLine: Mutator = (text, random) => {
  const all = lines(text);
  const at = lineIndex(all, random);
  all.splice(at, 0, all[at] ?? "");
  return all.join("\n");
};

const swapLines: Mutator = (text, random) => {
  const all = lines(text);
  const a = lineIndex(all, random);
  const b = lineIndex(all, random);
  [all[a], all[b]] = [all[b] ?? "", all[a] ?? ""];
  return all.join("\n");
};

const insertToken: Mutator = (text, random) => {
  const at = random.below(text.length + 1);
  return text.slice(0, at) + random.pick(TOKENS) + text.slice(at);
};

/** `key: value` → `key: <interesting value>`, or a list item's value. */
const replaceValue: Mutator = (text, random) => {
  const all = lines(text);
  const candidates = all.map((line, i) => (/^\s*(- )?[\w.-]+:\s*\S/.test(line) || /^\s*- \S/.test(line) ? i : -1)).filter((i) => i >= 0);
  if (candidates.length === 0) return insertToken(text, random, []);
  const at = random.pick(candidates);
  const line = all[at]!;
  const colon = line.search(/:\s/);
  const prefix = colon >= 0 ? line.slice(0, colon + 2) : line.slice(0, line.indexOf("- ") + 2);
  all[at] = prefix + random.pick(VALUES);
  return all.join("\n");
};

const reindent: Mutator = (text, random) => {
  const all = lines(text);
  const at = lineIndex(all, random);
  const line = all[at] ?? "";
  const body = line.trimStart();
  const indent = line.length - body.length;
  const next = random.pick([0, 1, indent - 1, indent + 1, indent + 2, indent - 2]);
  all[at] = (random.chance(0.15) ? "\t" : " ".repeat(Math.max(0, next))) + body;
  return all.join("\n");
};

const truncate: Mutator = (text, random) => text.slice(0, random.below(text.length + 1));

const spliceFromDonor: Mutator = (text, random, donors) => {
  const donor = lines(random.pick(donors.length ? donors : [text]));
  const start = lineIndex(donor, random);
  const block = donor.slice(start, start + 1 + random.below(8));
  const all = lines(text);
  all.splice(lineIndex(all, random), 0, ...block);
  return all.join("\n");
};

/** A typo in a key: an unknown key, with a "did you mean". */
const typoInKey: Mutator = (text, random) => {
  const all = lines(text);
  const candidates = all.map((line, i) => (/^\s*(- )?[a-z_]{2,}:/.test(line) ? i : -1)).filter((i) => i >= 0);
  if (candidates.length === 0) return flipChar(text, random, []);
  const at = random.pick(candidates);
  const line = all[at]!;
  const start = line.search(/[a-z_]/);
  const end = line.indexOf(":");
  const pos = start + random.below(end - start);
  all[at] = line.slice(0, pos) + (random.chance(0.5) ? "" : String.fromCharCode(97 + random.below(26))) + line.slice(pos + 1);
  return all.join("\n");
};

const repeatBlock: Mutator = (text, random) => {
  const all = lines(text);
  const start = lineIndex(all, random);
  const block = all.slice(start, start + 1 + random.below(12));
  const times = 1 + random.below(random.chance(0.1) ? 200 : 4);
  const copies = Array.from({ length: times }, () => block).flat();
  all.splice(start, 0, ...copies);
  return all.join("\n");
};

const hugeValue: Mutator = (text, random) => {
  const all = lines(text);
  const at = lineIndex(all, random);
  const line = all[at] ?? "";
  const colon = line.indexOf(": ");
  const huge = random.pick(["a", "9", "\\e", "é", " x"]).repeat(1000 + random.below(60_000));
  all[at] = colon >= 0 ? `${line.slice(0, colon + 2)}"${huge}"` : `${line}${huge}`;
  return all.join("\n");
};

const nest: Mutator = (text, random) => {
  // Now and then far deeper than any config needs (the documented limit is the point): 10,000 to 30,000 levels.
  let depth = random.chance(0.02) ? 10_000 + random.below(20_000) : 1 + random.below(random.chance(0.1) ? 500 : 30);
  const [open, close] = random.pick([["[", "]"], ["{a: ", "}"], ["- ", ""]] as const);
  // A block list indents each level: its size grows with the square of the depth.
  if (open === "- ") depth = Math.min(depth, 300);
  const all = lines(text);
  const at = lineIndex(all, random);
  const line = all[at] ?? "";
  const colon = line.indexOf(": ");
  const value = open === "- " ? `\n${Array.from({ length: depth }, (_, i) => `${" ".repeat(2 * i + 2)}- `).join("\n")}x` : `${open.repeat(depth)}1${close.repeat(depth)}`;
  all[at] = colon >= 0 ? line.slice(0, colon + 2) + value : line + value;
  return all.join("\n");
};

const anchors: Mutator = (text, random) => {
  const all = lines(text);
  const at = lineIndex(all, random);
  const line = all[at] ?? "";
  const colon = line.indexOf(": ");
  if (colon < 0) return `${text}\nextra: &a [1, 2]\nmore: *a\n`;
  all[at] = random.chance(0.5) ? `${line.slice(0, colon + 2)}&a ${line.slice(colon + 2)}` : `${line.slice(0, colon + 2)}*a`;
  return all.join("\n");
};

const encoding: Mutator = (text, random) => {
  switch (random.below(4)) {
    case 0:
      return text.replaceAll("\n", "\r\n");
    case 1:
      return `\ufeff${text}`;
    case 2:
      return `${text}\n---\n${text}`;
    default:
      return text.replaceAll("  ", "\t");
  }
};

export const MUTATORS: readonly [string, Mutator][] = [
  ["flip-char", flipChar],
  ["delete-line", deleteLine],
  ["duplicate-line", duplicateLine],
  ["swap-lines", swapLines],
  ["insert-token", insertToken],
  ["replace-value", replaceValue],
  ["reindent", reindent],
  ["truncate", truncate],
  ["splice-from-donor", spliceFromDonor],
  ["typo-in-key", typoInKey],
  ["repeat-block", repeatBlock],
  ["huge-value", hugeValue],
  ["nest", nest],
  ["anchors", anchors],
  ["encoding", encoding],
];

/** 1 to 4 mutations in a row; returns the text and the names of the mutations, for the report. */
export function mutate(text: string, random: Random, donors: readonly string[]): { text: string; applied: string[] } {
  const applied: string[] = [];
  let out = text;
  const rounds = 1 + random.below(4);
  for (let i = 0; i < rounds; i++) {
    const [name, mutator] = random.pick(MUTATORS);
    const next = mutator(out, random, donors);
    if (next.length > MAX_INPUT_CHARS) continue;
    out = next;
    applied.push(name);
  }
  return { text: out, applied };
}
