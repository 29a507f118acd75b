/**
 * The fast path must never accept what the `yaml` library would read differently or reject: whenever the scanner
 * says "plain", Bun's parser and the yaml library must produce the same data.
 */

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { isPlainYaml, parseFast } from "../../src/config/fast-yaml.ts";
import { loadConfig } from "../../src/config/load.ts";
import { configTree } from "../support/config-tree.ts";

const root = join(import.meta.dir, "../..");

const plain = [
  readFileSync(join(root, "dist/config.yaml.example"), "utf8"),
  readFileSync(join(root, "dist/config.d/example-service.yaml"), "utf8"),
  "services:\n- name: a\n  ports: [80]\n- name: b\n  ports: [81]\n",
  "a: 'it''s # not a comment'\nb: \"x # y\" # real comment\n",
  "a: { b: 1, c: [1, 2, { d: 3 }] }\n",
  "---\na: 1\n",
  "list:\n  - 80\n  - \"8000-8010\"\n  -   - nested\n",
  "a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
  "a: yes\nb: 0755\nc: 0x1F\nd: 1e3\ne: ~\nf: 2001:db8::1\n",
  "key: value with spaces\nurl: http://host:8086/x\n",
];

const notPlain: Array<[string, string]> = [
  ["a duplicate key", "a: 1\nb: 2\na: 3\n"],
  ["a duplicate key in a sequence item", "s:\n  - name: a\n    ports: [1]\n    ports: [2]\n"],
  ["a duplicate key in a flow mapping", "a: { b: 1, b: 2 }\n"],
  ["a duplicate quoted key", "\"a\": 1\n'a': 2\n"],
  ["an anchor", "a: &x 1\nb: *x\n"],
  ["a merge key", "a: { x: 1 }\nb:\n  <<: { y: 2 }\n"],
  ["a tag", "a: !!str 12\n"],
  ["a block scalar", "a: |\n  line: one\n  line: two\n"],
  ["a multi-line flow sequence", "a: [1,\n  2]\n"],
  ["a multi-line plain scalar", "a: one\n  two\n"],
  ["a complex key", "? [a]\n: 1\n"],
  ["two documents", "a: 1\n---\nb: 2\n"],
  ["an unterminated quote", "a: \"open\n  close\"\n"],
  ["a tab indent", "a:\n\tb: 1\n"],
];

describe("fast YAML path", () => {
  test.each(plain.map((text, i) => [i, text]))("plain text %d reads the same with both parsers", (_i, text) => {
    expect(isPlainYaml(text as string)).toBe(true);
    expect(parseFast(text as string)?.data).toEqual(parse(text as string));
  });

  test.each(notPlain)("%s goes to the yaml library", (_name, text) => {
    expect(isPlainYaml(text)).toBe(false);
  });

  test("a duplicate key in a service file is still reported, with its position", () => {
    const tree = configTree({ services: { "a.yaml": "services:\n  - name: a\n    ports: [80]\n    name: b\n" } });
    try {
      const result = loadConfig(tree.main);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.issues[0]).toMatchObject({ line: 4, file: tree.path("config.d/a.yaml") });
    } finally {
      tree.remove();
    }
  });

  test("an error found on the fast path is reported with positions from the slow path", () => {
    const tree = configTree({ services: { "a.yaml": "services:\n  - name: a\n    ports: [80]\n    scheduler: bogus\n" } });
    try {
      const result = loadConfig(tree.main);
      expect(!result.ok && result.issues[0]).toMatchObject({ line: 4, column: 16, path: "services[0].scheduler" });
    } finally {
      tree.remove();
    }
  });
});
