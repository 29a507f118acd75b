/**
 * The examples in docs/ really behave as written: every block marked `<!-- check: GROUP/FILE [VAR=value ...] -->`
 * belongs to a config that validates; `check-invalid` groups fail, and an `<!-- output: GROUP -->` block holds the
 * exact commands and what lbctl prints (with /etc/lbctl standing for the group's folder).
 */

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { configTree, MINIMAL_MAIN } from "../support/config-tree.ts";
import { runLbctl } from "../support/run-lbctl.ts";

const docsDir = join(import.meta.dir, "../../docs");

interface Group {
  doc: string;
  valid: boolean;
  files: Map<string, string>;
  env: Record<string, string>;
  output?: string;
}

function collectGroups(): Group[] {
  const groups = new Map<string, Group>();
  for (const doc of readdirSync(docsDir).filter((f) => f.endsWith(".md"))) {
    const text = readFileSync(join(docsDir, doc), "utf8");
    for (const match of text.matchAll(/<!-- (check|check-invalid): (\S+?)\/(\S+)((?: \w+=\S*)*) -->\n```yaml\n([\s\S]*?)```/g)) {
      const [, kind, name, file, envText, body] = match;
      const key = `${doc}#${name}`;
      const group: Group = groups.get(key) ?? { doc, valid: kind === "check", files: new Map(), env: {} };
      group.files.set(file!, body!);
      for (const pair of envText!.trim().split(/\s+/).filter(Boolean)) {
        const [k, ...v] = pair.split("=");
        group.env[k!] = v.join("=");
      }
      groups.set(key, group);
    }
    for (const match of text.matchAll(/<!-- output: (\S+) -->\n```text\n([\s\S]*?)```/g)) {
      const group = groups.get(`${doc}#${match[1]}`);
      if (group) group.output = match[2];
    }
  }
  return [...groups.values()];
}

const groups = collectGroups();

describe("examples in docs/", () => {
  test("there are examples to check", () => {
    expect(groups.length).toBeGreaterThan(3);
  });

  for (const group of groups) {
    const label = `${group.doc}: ${[...group.files.keys()].join(", ")}`;
    test(`${group.valid ? "valid" : "invalid"}: ${label}`, async () => {
      const tree = configTree({ main: group.files.get("config.yaml") ?? MINIMAL_MAIN });
      try {
        for (const [file, body] of group.files) tree.write(file, body);
        const run = await runLbctl(["validate", "--config", tree.main], group.env);
        expect(`${run.exitCode} ${run.stderr}`).toStartWith(group.valid ? "0" : "1");
        if (!group.output) return;
        for (const block of group.output.split(/^\$ /m).filter(Boolean)) {
          const [command, ...expected] = block.trimEnd().split("\n");
          const env: Record<string, string> = { ...group.env };
          const words = command!.split(" ");
          while (words[0]?.includes("=")) {
            const [k, ...v] = words.shift()!.split("=");
            env[k!] = v.join("=");
          }
          expect(words.slice(0, 2)).toEqual(["lbctl", "validate"]);
          const result = await runLbctl([...words.slice(1), "--config", tree.main], env);
          const printed = (result.stdout + result.stderr).replaceAll(tree.dir, "/etc/lbctl").trimEnd();
          expect(printed).toBe(expected.join("\n"));
        }
      } finally {
        tree.remove();
      }
    });
  }
});
