/** docs/metrics.md names every metric (with an example query) and every audit event lbctl defines. */

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AUDIT_EVENTS } from "../../src/observability/audit.ts";
import { familyNames } from "../../src/observability/metrics/families.ts";

const doc = readFileSync(join(import.meta.dir, "../../docs/metrics.md"), "utf8");

describe("docs/metrics.md", () => {
  test("every metric has a row in the metrics table and an example query", () => {
    for (const name of familyNames()) {
      expect(doc).toMatch(new RegExp(`^\\| \`${name}\` \\| (counter|gauge|histogram) \\|`, "m"));
      const example = doc.split("\n").find((line) => line.startsWith(`| \`${name}\` | \``) && line.includes(name.replace(/_total$/, "")) && /\(|>|==|!=|</.test(line));
      expect(example, `an example query for ${name}`).toBeDefined();
    }
  });

  test("every audit event is documented", () => {
    for (const event of AUDIT_EVENTS) expect(doc).toContain(`\`${event}\``);
  });
});
