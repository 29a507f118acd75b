/**
 * Real configurations from public projects (tests/convert/corpus/, each naming its source): real nginx and
 * keepalived accept each input (or refuse it, as recorded), each converts or fails as recorded
 * (tests/convert/golden/corpus/), the output passes validation with a main file, and every warning names a line
 * that holds the directive it is about.
 */

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { fileReader } from "../../src/convert/fs-reader.ts";
import { ConvertError, type ConvertWarning } from "../../src/convert/issues.ts";
import { convertKeepalived } from "../../src/convert/keepalived/convert.ts";
import { convertNginx } from "../../src/convert/nginx/convert.ts";
import { renderServiceFile } from "../../src/convert/render.ts";
import type { SourceReader } from "../../src/convert/source.ts";
import { validateWithMain } from "./support/convert.ts";
import { golden, requireTool } from "./support/fixtures.ts";
import { nginxAvailable, runNginxTest } from "./support/nginx-oracle.ts";

const CORPUS = join(import.meta.dir, "corpus");

function corpus(kind: "nginx" | "keepalived"): Array<{ name: string; file: string }> {
  return readdirSync(join(CORPUS, kind))
    .sort()
    .map((name) => ({ name: name.replace(/\.conf$/, ""), file: name.endsWith(".conf") ? join(CORPUS, kind, name) : join(CORPUS, kind, name, "nginx.conf") }));
}

/** The corpus's own files from disk; files of the host it names (mime.types) read as empty when absent. */
function corpusReader(): SourceReader {
  const files = fileReader();
  return {
    ...files,
    read: (path) => {
      if (path.startsWith(CORPUS)) return files.read(path);
      try {
        return files.read(path);
      } catch {
        return "";
      }
    },
  };
}

interface Recorded {
  services?: Array<Record<string, unknown>>;
  warnings: string[];
  error?: string;
}

function record(run: () => { services: Parameters<typeof renderServiceFile>[0][]; warnings: ConvertWarning[] }, file: string): { recorded: Recorded; texts: string[]; warnings: ConvertWarning[] } {
  const relative = (path: string) => path.replace(`${CORPUS}/`, "");
  try {
    const result = run();
    const texts = result.services.map((s) => renderServiceFile(s, { generator: "test", date: new Date(0) }));
    const services = texts.map((t) => (parse(t) as { services: Array<Record<string, unknown>> }).services[0]!);
    return {
      recorded: {
        services: services.map((s) => ({ ...s, backends: (s.backends as unknown[]).length })),
        warnings: result.warnings.map((w) => `${relative(w.file)}:${w.line} ${w.directive}: ${w.message}`),
      },
      texts,
      warnings: result.warnings,
    };
  } catch (error) {
    if (!(error instanceof ConvertError)) throw error;
    return { recorded: { warnings: [], error: error.describe().replaceAll(`${CORPUS}/`, "") }, texts: [], warnings: [] };
  }
  void file;
}

/** The warning's line holds its directive: the check that warnings point at the right place. */
function expectLocated(warnings: readonly ConvertWarning[]): void {
  for (const warning of warnings) {
    const line = readFileSync(warning.file, "utf8").split("\n")[warning.line - 1] ?? "";
    expect({ warning: `${warning.file}:${warning.line} ${warning.directive}`, holds: new RegExp(`(^|[\\s{;])${warning.directive.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\s|;|$)`).test(line) }).toMatchObject({ holds: true });
  }
}

const nginxReady = requireTool(nginxAvailable());

describe("nginx corpus", () => {
  const fixtures = corpus("nginx");
  test("holds at least 20 configurations", () => expect(fixtures.length).toBeGreaterThanOrEqual(20));
  for (const fixture of fixtures) {
    test.skipIf(!nginxReady)(`${fixture.name}: real nginx -t accepts it`, () => {
      const result = runNginxTest(fixture.file);
      if (result.available && !result.ok) console.error(result.output);
      expect(result).toMatchObject({ available: true, ok: true });
    });
    test(`${fixture.name}: converts as recorded, validates, warnings located`, () => {
      const { recorded, texts, warnings } = record(() => convertNginx(corpusReader(), fixture.file), fixture.file);
      const expected = JSON.parse(golden(`corpus/nginx-${fixture.name}.json`, `${JSON.stringify(recorded, null, 2)}\n`));
      expect(recorded).toEqual(expected);
      expect(validateWithMain(texts)).toEqual([]);
      expectLocated(warnings);
    });
  }
});

function keepalivedCheck(file: string): { available: boolean; ok: boolean; output: string } {
  const which = Bun.spawnSync(["sh", "-c", "command -v keepalived"], { stdout: "pipe" });
  if (which.exitCode !== 0) return { available: false, ok: false, output: "" };
  // In a network namespace holding the interfaces the config names, so the verdict does not depend on this host's.
  const text = readFileSync(file, "utf8");
  const interfaces = [...new Set([...text.matchAll(/^\s*(?:interface|track_interface)\s+([A-Za-z0-9_.-]+)/gm)].map((m) => m[1]!))];
  const script = [...interfaces.map((name, i) => `ip link add ${name} type veth peer name lbctlpeer${i}`), 'exec keepalived --config-test -f "$1"'].join("\n");
  const run = Bun.spawnSync(["unshare", "-n", "sh", "-c", script, "check", file], { stdout: "pipe", stderr: "pipe" });
  return { available: true, ok: run.exitCode === 0, output: `${run.stdout}${run.stderr}` };
}

const keepalivedReady = requireTool(keepalivedCheck("/dev/null").available ? undefined : "keepalived is not installed (tests/lab/packages.txt)");

describe("keepalived corpus", () => {
  const fixtures = corpus("keepalived");
  test("holds at least 10 configurations", () => expect(fixtures.length).toBeGreaterThanOrEqual(10));
  for (const fixture of fixtures) {
    test.skipIf(!keepalivedReady)(`${fixture.name}: keepalived --config-test says what the record says`, () => {
      const result = keepalivedCheck(fixture.file);
      const expected = golden(`corpus/keepalived-${fixture.name}.check`, `${result.ok ? "accepted" : "refused"}\n`).trim();
      if ((expected === "accepted") !== result.ok) console.error(result.output);
      expect(result.ok ? "accepted" : "refused").toBe(expected);
    });
    test(`${fixture.name}: converts as recorded, validates, warnings located`, () => {
      const { recorded, texts, warnings } = record(() => convertKeepalived(corpusReader(), fixture.file), fixture.file);
      const expected = JSON.parse(golden(`corpus/keepalived-${fixture.name}.json`, `${JSON.stringify(recorded, null, 2)}\n`));
      expect(recorded).toEqual(expected);
      expect(validateWithMain(texts)).toEqual([]);
      expectLocated(warnings);
    });
  }
});
