/**
 * The one-pass block reader replaces the scan and Bun's parser for the common case: whenever it gives data, the
 * old fast path must have taken the same text (the scan says "plain") and produced the same data, and the `yaml`
 * library (the slow path) must read it the same way. Checked on the corpus, the shipped examples and many
 * mutations of them; the reader's refusals are fine (the old path takes over), its answers must be exact.
 */

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { parseBlockYaml } from "../../src/config/block-yaml.ts";
import { plainSource } from "../../src/config/document.ts";
import { isPlainYaml, parseFast } from "../../src/config/fast-yaml.ts";
import { checkProperty, type Random } from "../support/seeded-random.ts";

const root = join(import.meta.dir, "../..");
const corpusDir = join(import.meta.dir, "corpus");

const handWritten = [
  "services:\n- name: a\n  ports:\n  - 80\n  - \"8000-8010\"\n  backends:\n  - address: 10.0.0.1\n    weight: 2\n- name: b\n",
  "a:\n  -\n    b: 1\n    c: two\n  -\n  - x\nd: ~\ne:\n",
  "a: 'it''s # not a comment'\nb: \"x # y\" # real comment\nc: plain text # comment\n",
  "---\nlist:\n  - []\n  - {}\n  - ''\n  - \"\"\nnone:\n",
  "k: true\nl: False\nm: NULL\nn: null\no: TRUE\np: yes\nq: off\nr: 0\ns: 007\nt: 1234567890123456\n",
  "ip: 10.30.0.1\nnet: 10.0.0.0/24\nv6: fd00::1\nrange: 10000-10049\nduration: 5s\nversion: 1.2.3\nfloat: 1.5\nhex: 0x1F\nexp: 1e3\n",
  "env: ${HOME}\npart: x-${USER}-y\nurl: http://host:8086/x\npath: /healthz?a=b&c=d\nbrackets: a[1]{2}\n",
  "a:\r\n  b: 1\r\n  c: d\r\n",
  "a: 1   \nb:    two   # spaces\n# comment\n\n   \n  # indented comment\nc:\n  - 1\n",
  "- a\n- b: 1\n  c: 2\n-   d: 3\n    e: 4\n- - nested\n",
  "a:\n  b:\n    c:\n      d: deep\n  e: f\ng: h\n",
  "v6: 2001:db8::1\nfull: 2001:db8:0:0:0:0:0:1\nsexagesimal: 1:30\nlist: [80, \"8000-8010\", ' 9000 - 9001 ', a b]\nmap: { port: 0, host: x }\n",
  "x: \"unicode ü ✓\"\ny: 日本\nz: 'emoji 🙂'\n",
  // Near the forms the reader finds by native searches: whole-line words and quoted scalars, keys, dotted decimals.
  "a: \"x y\"\r\nb: 'it s'\nc: \"a\\\\b\"\nd: 'a\\\\b'\ne: \"q\"  \nf: 'q' # c\ng: \"#\"\nh: '\"'\ni: \"'\"\nj: ''\n",
  "ip: 1.2.3.4.5\nz: 01.2.3\nw: 1..2.3\nv: 1.2.\nu: 0000000000000001\nt: 123456789012345\ns: 0\nr: 10.0.0.1 \nq: a/b.c-d_e\n",
  "k:   \r\n  x: 1\r\nl: v\r",
  "a:\r",
  "- \"10000\"\n- '10001'\n-   \"x\"   \n- 10.30.0.1\n",
];

function corpus(): string[] {
  const texts = readdirSync(corpusDir)
    .filter((name) => name.endsWith(".yaml"))
    .sort()
    .map((name) => readFileSync(join(corpusDir, name), "utf8"));
  texts.push(readFileSync(join(root, "dist/config.yaml.example"), "utf8"));
  texts.push(readFileSync(join(root, "dist/config.d/example-service.yaml"), "utf8"));
  return texts;
}

const seeds = [...handWritten, ...corpus()];

/** Characters and strings that change what YAML means. */
const ALPHABET = [
  " ", "  ", "-", "- ", ":", ": ", "#", " #", "\"", "'", "''", "\n", "\n  ", "\n- ", "a", "1", "0", ".", "[", "]", "{", "}",
  "[]", "{}", "\t", "~", "!", "&", "*", "|", ">", "?", "%", "@", "`", ",", "\\", "$", "${X}", "\r", "\r\n", "\u00a0",
  "\u2028", "\u0085", "\ufeff", "yes", "no", "null", "true", "1e3", "0x", "0o7", ".inf", ".5", "+1", "-1", "1:30",
  "2001-12-14", "---", "...", "<<: ", "__proto__: ", "k: ", "10.0.0.1", "80-90", "ü", "\"x y\"", "'a b'", "1.2.3.4",
  "\"10000\"", "a/b",
];

function mutate(text: string, random: Random): string {
  let out = text;
  const edits = 1 + random.below(3);
  for (let e = 0; e < edits; e++) {
    const lines = out.split("\n");
    const line = random.below(lines.length);
    const at = random.below(out.length + 1);
    switch (random.below(7)) {
      case 0:
      case 1:
        out = out.slice(0, at) + random.pick(ALPHABET) + out.slice(at);
        break;
      case 2:
        out = out.slice(0, at) + out.slice(at + 1 + random.below(3));
        break;
      case 3:
        lines.splice(line, 0, lines[line]!);
        out = lines.join("\n");
        break;
      case 4:
        lines.splice(line, 1);
        out = lines.join("\n");
        break;
      case 5:
        lines[line] = random.chance(0.5) ? ` ${random.chance(0.5) ? " " : ""}${lines[line]}` : lines[line]!.replace(/^ {1,2}/, "");
        out = lines.join("\n");
        break;
      default: {
        const other = random.below(lines.length);
        [lines[line], lines[other]] = [lines[other]!, lines[line]!];
        out = lines.join("\n");
      }
    }
  }
  return out;
}

const env = { X: "expanded", HOME: "/home/x", USER: "u" };

/**
 * What the reader gave must be what the old fast path and the slow path give; data it calls final must come out of
 * the `${NAME}` expansion and null removal unchanged (the loader skips that step for it).
 */
function expectSameAsBefore(text: string, block: { data: unknown; final: boolean }): void {
  expect(isPlainYaml(text)).toBe(true);
  expect(block.data).toStrictEqual(Bun.YAML.parse(text) ?? null);
  expect(block.data).toStrictEqual(parse(text) ?? null);
  if (block.final) {
    const converted = plainSource("f.yaml", parse(text) ?? null, env);
    expect(converted.ok && converted.source.data).toStrictEqual(block.data);
  }
}

describe("one-pass block YAML reader", () => {
  test("reads the corpus, the examples and the hand-written cases as both parsers do", () => {
    let read = 0;
    let final = 0;
    for (const text of seeds) {
      const block = parseBlockYaml(text);
      if (block === undefined) continue;
      read++;
      if (block.final) final++;
      expectSameAsBefore(text, block);
    }
    // Most config files are for this reader: a reader that refuses everything would pass the rest vacuously.
    expect(read).toBeGreaterThan(seeds.length / 2);
    expect(final).toBeGreaterThan(0);
    expect(final).toBeLessThan(read);
  });

  test("gives up on what it does not read exactly", () => {
    const refused = [
      "a: &x 1\nb: *x\n",
      "a: !!str 12\n",
      "a: |\n  text\n",
      "a: [[1]]\n",
      "a: { b: [1] }\n",
      "a: [1, 2,]\n",
      "a: [1,\n  2]\n",
      "a: one\n  two\n",
      "a: 1\nb: 2\na: 3\n",
      "a: \"esc\\n\"\n",
      "a: yes\n",
      "a: 1.5\n",
      "a: 0x1F\n",
      "a: 007\n",
      "a: -1\n",
      "- - a\n",
      "a:\n\tb: 1\n",
      "a: 1\n---\nb: 2\n",
      "a: b: c\n",
      "__proto__: 1\n",
      "  a: 1\n",
      "just a scalar\n",
    ];
    for (const text of refused) expect(parseBlockYaml(text)).toBeUndefined();
  });

  test("a generated file of many services reads as Bun's parser reads it", () => {
    const services = Array.from({ length: 300 }, (_, s) => ({
      name: `svc${s}`,
      ports: s % 3 === 0 ? [`${10000 + s}`] : s % 3 === 1 ? [10000 + s] : [`${10000 + s * 10}-${10009 + s * 10}`],
      scheduler: "wlc",
      backends: Array.from({ length: 4 }, (_, b) => ({ address: `10.${30 + b}.${Math.floor(s / 250)}.${(s % 250) + 1}`, weight: 1 + b })),
    }));
    const text = stringify({ services });
    const block = parseBlockYaml(text);
    expect(block).toBeDefined();
    expectSameAsBefore(text, block!);
    expect(block!.final).toBe(true);
    expect(parseFast(text)?.data).toStrictEqual(block!.data);
  });

  test("mutated config files: whatever the reader gives, the old fast path and the yaml library give too", () => {
    let read = 0;
    let refused = 0;
    checkProperty(
      { runs: Number(process.env.BLOCK_RUNS ?? 6000), generate: (random) => mutate(random.pick(seeds), random) },
      (text) => {
        const block = parseBlockYaml(text);
        if (block === undefined) {
          refused++;
          return;
        }
        read++;
        expectSameAsBefore(text, block);
      },
    );
    // Both outcomes must be well represented for the comparison to mean something.
    expect(read).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(1000);
  }, 120_000);
});
