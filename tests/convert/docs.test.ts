/**
 * The migration guides show real conversions: each `<!-- convert-KIND: GROUP -->` input block converts to exactly
 * the YAML files of its `<!-- check: GROUP/config.d/NAME.yaml -->` blocks (compared as parsed YAML), and the
 * warnings block that follows shows the converter's own lines. (tests/docs checks that those files validate.)
 */

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { formatWarning } from "../../src/convert/issues.ts";
import { convertText } from "./support/convert.ts";

const docs = join(import.meta.dir, "../../docs");

for (const doc of ["migration-from-nginx.md", "migration-from-keepalived.md"]) {
  const text = readFileSync(join(docs, doc), "utf8");
  const inputs = [...text.matchAll(/<!-- convert-(nginx|keepalived): (\S+) -->\n```\w+\n([\s\S]*?)```/g)];
  test(`${doc} has conversion examples`, () => expect(inputs.length).toBeGreaterThan(0));
  for (const [, kind, group, input] of inputs) {
    test(`${doc}: the ${group} example converts as shown`, () => {
      const result = convertText(kind as "nginx" | "keepalived", input!);
      const shown = new Map([...text.matchAll(new RegExp(`<!-- check: ${group}/config\\.d/(\\S+)\\.yaml -->\\n\`\`\`yaml\\n([\\s\\S]*?)\`\`\``, "g"))].map((m) => [m[1]!, parse(m[2]!)]));
      const produced = new Map(result.texts.map((t, i) => [result.services[i]!.name as string, parse(t)]));
      expect(Object.fromEntries(produced)).toEqual(Object.fromEntries(shown));
      // The warnings block right after the input shows the same lines.
      const after = text.slice(text.indexOf(input!) + input!.length);
      const block = /```text\n([\s\S]*?)```/.exec(after)?.[1] ?? "";
      for (const warning of result.warnings) expect(block).toContain(formatWarning(warning));
    });
  }
}
