/**
 * Counts quoted in the docs come from a real run. Every `lbctl validate` summary line in docs/ and README.md sits
 * either in an `<!-- output: GROUP -->` block (checked by examples.test.ts) or in a block marked
 * `<!-- summary: shipped-examples -->`, which this test replays on the files `lbctl setup files` installs: `$ lbctl
 * validate` runs validate, `$ sudo cp A B` copies inside the installed root, and each summary line must be what
 * lbctl printed at that point (a block without commands quotes the run with the example service file in place).
 */

import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLbctl } from "../support/run-lbctl.ts";

const repo = join(import.meta.dir, "../..");
const SUMMARY = /is valid: \d+ services?, \d+ virtual services?, \d+ destinations? \(\d+ files?\)/;

const documents = [...readdirSync(join(repo, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`), "README.md"];

interface Block {
  doc: string;
  marker: string | undefined;
  lines: string[];
}

function blocks(doc: string): Block[] {
  const out: Block[] = [];
  const lines = readFileSync(join(repo, doc), "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith("```")) continue;
    const marker = /^<!-- (summary: \S+|output: \S+) -->$/.exec(lines[i - 1] ?? "")?.[1];
    const end = lines.findIndex((line, j) => j > i && line.startsWith("```"));
    out.push({ doc, marker, lines: lines.slice(i + 1, end) });
    i = end;
  }
  return out;
}

async function withInstalledRoot<T>(body: (root: string, validate: () => Promise<string>) => Promise<T>): Promise<T> {
  const root = mkdtempSync(join(tmpdir(), "lbctl-shipped-"));
  try {
    const setup = await runLbctl(["setup", "files", "--root", root]);
    expect(setup.exitCode, setup.stderr).toBe(0);
    const validate = async () => {
      const run = await runLbctl(["validate", "--config", join(root, "etc/lbctl/config.yaml")]);
      expect(run.exitCode, run.stderr).toBe(0);
      return run.stdout.trimEnd().replaceAll(root, "");
    };
    return await body(root, validate);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe("numbers quoted in the docs", () => {
  test("every summary line in the docs is in a checked block", () => {
    const loose: string[] = [];
    for (const doc of documents) {
      const text = readFileSync(join(repo, doc), "utf8");
      const inBlocks = blocks(doc).filter((b) => b.marker).flatMap((b) => b.lines);
      for (const line of text.split("\n")) if (SUMMARY.test(line) && !inBlocks.includes(line)) loose.push(`${doc}: ${line}`);
    }
    expect(loose).toEqual([]);
  });

  test("setup files leaves config.d empty; the shipped example then validates as quoted", async () => {
    await withInstalledRoot(async (root, validate) => {
      expect(readdirSync(join(root, "etc/lbctl/config.d"))).toEqual([]);
      expect(readdirSync(join(root, "etc/lbctl/examples")).sort()).toEqual(["config.yaml", "example-service.yaml"]);
      expect(await validate()).toBe("[success] /etc/lbctl/config.yaml is valid: 0 services, 0 virtual services, 0 destinations (1 file)");
    });
  });

  const marked = documents.flatMap(blocks).filter((b) => b.marker === "summary: shipped-examples");
  test("there are marked blocks", () => {
    expect(marked.length).toBeGreaterThanOrEqual(2);
  });

  for (const [index, block] of marked.entries()) {
    test(`${block.doc} block ${index + 1}`, async () => {
      await withInstalledRoot(async (root, validate) => {
        const commands = block.lines.some((line) => line.startsWith("$ "));
        if (!commands) copyFileSync(join(root, "etc/lbctl/examples/example-service.yaml"), join(root, "etc/lbctl/config.d/example-service.yaml"));
        let printed: string | undefined = commands ? undefined : await validate();
        let checked = 0;
        for (const line of block.lines) {
          const copy = /^\$ (?:sudo )?cp (\S+) (\S+)$/.exec(line);
          if (line === "$ lbctl validate") printed = await validate();
          else if (copy) copyFileSync(join(root, copy[1]!), join(root, copy[2]!, copy[2]!.endsWith("/") ? copy[1]!.split("/").pop()! : ""));
          else if (SUMMARY.test(line)) {
            expect(line).toBe(printed!);
            checked++;
          }
        }
        expect(checked).toBeGreaterThan(0);
      });
    });
  }
});
