/**
 * One source of truth: lbctl and the JSON Schema it publishes (`lbctl schema`, dist/schema/) give the same verdict
 * on every YAML example in docs/ and on the corpus in tests/config/corpus/.
 *
 * Each corpus file starts with `# kind: main|service`, `# verdict: valid|invalid|rule|env`, `# why: ...` and
 * optionally `# env: NAME=value ...`:
 * - valid / invalid: lbctl (the whole loader, on a config tree holding the file) and the schema (ajv, on the YAML
 *   as an editor parses it) both say so;
 * - rule: a rule between keys, values or files that JSON Schema cannot express (docs/configuration.md section 10):
 *   the schema accepts the file, lbctl refuses it;
 * - env: depends on the environment, which an editor cannot know: the schema accepts, lbctl refuses.
 * For docs examples the verdict compared is lbctl's per-file check (parsing and the schema of one file), since
 * their invalid groups may be invalid across files.
 */

import { describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { parse } from "yaml";
import { parseYamlSource } from "../../src/config/document.ts";
import { configJsonSchema, type SchemaKind } from "../../src/config/json-schema.ts";
import { loadConfig } from "../../src/config/load.ts";
import { MainFileSchema } from "../../src/config/schema/main.ts";
import { ServiceFileSchema } from "../../src/config/schema/service.ts";
import { configTree, MINIMAL_MAIN } from "../support/config-tree.ts";

const corpusDir = join(import.meta.dir, "corpus");
const docsDir = join(import.meta.dir, "../../docs");

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validators = { main: ajv.compile(configJsonSchema("main")), service: ajv.compile(configJsonSchema("service")) };

/** The schema's verdict, on the YAML as an editor parses it (a YAML error is a verdict too). */
function schemaVerdict(kind: SchemaKind, text: string): { valid: boolean; errors: string } {
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    return { valid: false, errors: `YAML: ${(error as Error).message}` };
  }
  const validate = validators[kind];
  const valid = validate(data);
  return { valid, errors: JSON.stringify(validate.errors ?? []) };
}

/** lbctl's check of one file on its own: parsing (with `${VAR}` expansion) and the file's schema. */
function fileVerdict(kind: SchemaKind, text: string, env: Record<string, string>): { valid: boolean; issues: string[] } {
  const parsed = parseYamlSource(`/corpus/${kind}.yaml`, text, env);
  if (!parsed.ok) return { valid: false, issues: parsed.issues.map((i) => i.message) };
  if (kind === "service" && parsed.source.data === null) return { valid: true, issues: [] };
  const result = v.safeParse(kind === "main" ? MainFileSchema : ServiceFileSchema, parsed.source.data, { abortEarly: false });
  return { valid: result.success, issues: result.success ? [] : result.issues.map((i) => i.message) };
}

/** The whole loader, as `lbctl validate` runs it, on a tree holding the file. */
function loaderVerdict(kind: SchemaKind, text: string, env: Record<string, string>): { valid: boolean; issues: string[] } {
  const tree = configTree({ main: kind === "main" ? text : MINIMAL_MAIN });
  try {
    if (kind === "service") tree.write("config.d/case.yaml", text);
    const result = loadConfig(tree.main, { env });
    return { valid: result.ok, issues: result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`) };
  } finally {
    tree.remove();
  }
}

interface Case {
  name: string;
  kind: SchemaKind;
  verdict: "valid" | "invalid" | "rule" | "env";
  why: string;
  env: Record<string, string>;
  text: string;
}

function parseEnv(words: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of words.trim().split(/\s+/).filter(Boolean)) {
    const [key, ...value] = pair.split("=");
    env[key!] = value.join("=");
  }
  return env;
}

function readCorpus(): Case[] {
  return readdirSync(corpusDir)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .map((file) => {
      const text = readFileSync(join(corpusDir, file), "utf8");
      const header = (key: string) => new RegExp(`^# ${key}: (.*)$`, "m").exec(text)?.[1]?.trim();
      const kind = header("kind");
      const verdict = header("verdict");
      if ((kind !== "main" && kind !== "service") || !["valid", "invalid", "rule", "env"].includes(verdict ?? "")) {
        throw new Error(`${file}: needs "# kind: main|service" and "# verdict: valid|invalid|rule|env"`);
      }
      return { name: file, kind, verdict: verdict as Case["verdict"], why: header("why") ?? "", env: parseEnv(header("env") ?? ""), text };
    });
}

const corpus = readCorpus();

describe("the corpus", () => {
  test("covers enough ground", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    for (const verdict of ["valid", "invalid", "rule", "env"]) expect(corpus.some((c) => c.verdict === verdict)).toBe(true);
    for (const kind of ["main", "service"]) expect(corpus.some((c) => c.kind === kind)).toBe(true);
    // Every boolean spelling lbctl takes appears, in lower, capitalised and upper case.
    const spellings = new Set(corpus.flatMap((c) => [...c.text.matchAll(/\benabled: "?(\w+)"?/g)].map((m) => m[1]!)));
    for (const word of ["true", "false", "yes", "no", "on", "off"]) {
      for (const spelling of [word, word[0]!.toUpperCase() + word.slice(1), word.toUpperCase()]) expect(spellings).toContain(spelling);
    }
  });

  for (const c of corpus) {
    test(`${c.name} (${c.verdict}): ${c.why}`, () => {
      const schema = schemaVerdict(c.kind, c.text);
      const loader = loaderVerdict(c.kind, c.text, c.env);
      const detail = `schema: ${schema.errors}\nlbctl: ${loader.issues.join("; ")}`;
      if (c.verdict === "valid" || c.verdict === "invalid") {
        expect({ lbctl: loader.valid, schema: schema.valid }, detail).toEqual({ lbctl: c.verdict === "valid", schema: c.verdict === "valid" });
      } else {
        // Beyond JSON Schema: the schema accepts, lbctl refuses, for the reason the case names.
        expect({ lbctl: loader.valid, schema: schema.valid }, detail).toEqual({ lbctl: false, schema: true });
        if (c.verdict === "env") expect(loader.issues.join("\n")).toMatch(/\$\{\w+\}/);
      }
    });
  }
});

interface DocFile {
  doc: string;
  group: string;
  file: string;
  text: string;
  env: Record<string, string>;
}

function docsExamples(): DocFile[] {
  const out: DocFile[] = [];
  for (const doc of readdirSync(docsDir).filter((f) => f.endsWith(".md"))) {
    const text = readFileSync(join(docsDir, doc), "utf8");
    for (const match of text.matchAll(/<!-- (?:check|check-invalid): (\S+?)\/(\S+)((?: \w+=\S*)*) -->\n```yaml\n([\s\S]*?)```/g)) {
      out.push({ doc, group: match[1]!, file: match[2]!, env: parseEnv(match[3]!), text: match[4]! });
    }
  }
  return out;
}

describe("the YAML examples in docs/", () => {
  const examples = docsExamples();
  test("there are examples", () => {
    expect(examples.length).toBeGreaterThan(15);
  });
  for (const example of examples) {
    const kind: SchemaKind = example.file === "config.yaml" ? "main" : "service";
    test(`${example.doc}: ${example.group}/${example.file}`, () => {
      const schema = schemaVerdict(kind, example.text);
      const lbctl = fileVerdict(kind, example.text, example.env);
      const detail = `schema: ${schema.errors}\nlbctl: ${lbctl.issues.join("; ")}`;
      if (!lbctl.valid && lbctl.issues.every((message) => /environment variable \$\{\w+\} is not set/.test(message))) {
        // An unset variable: only lbctl, which sees the environment, can refuse it.
        expect(schema.valid, detail).toBe(true);
        return;
      }
      expect(schema.valid, detail).toBe(lbctl.valid);
    });
  }
});
