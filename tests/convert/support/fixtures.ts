/** The nginx grammar fixtures: tests/convert/fixtures/nginx/{valid,invalid}, one file or one folder with nginx.conf. */

import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURES = join(import.meta.dir, "../fixtures");
export const GOLDEN = join(import.meta.dir, "../golden");

export interface Fixture {
  name: string;
  /** The main file. */
  file: string;
  /** Why real nginx cannot load it here, from a `# oracle-skip: REASON` line. */
  oracleSkip?: string;
  /** The located error the converter must give, from a `# expect: FILE:LINE:COL: MESSAGE` line. */
  expect?: string;
}

export function fixtures(kind: "valid" | "invalid", root = join(FIXTURES, "nginx")): Fixture[] {
  const dir = join(root, kind);
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const file = name.endsWith(".conf") ? join(dir, name) : join(dir, name, "nginx.conf");
      const text = readFileSync(file, "utf8");
      const skip = /^# oracle-skip: (.+)$/m.exec(text)?.[1];
      const expect = /^# expect: (.+)$/m.exec(text)?.[1];
      return { name: name.replace(/\.conf$/, ""), file, ...(skip ? { oracleSkip: skip } : {}), ...(expect ? { expect } : {}) };
    });
}

/** Compares with a golden file; UPDATE_GOLDEN=1 writes it instead (review the diff before committing). */
export function golden(name: string, actual: string): string {
  const path = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(path)) {
    if (process.env.CI === "true") throw new Error(`golden file ${path} is missing`);
    writeFileSync(path, actual);
  }
  return readFileSync(path, "utf8");
}

/** CI must not skip: a missing tool there is a failure. Elsewhere the skip is loud. */
export function requireTool(missing: string | undefined): boolean {
  if (!missing) return true;
  if (process.env.CI === "true") throw new Error(`CI=true and ${missing}`);
  console.warn(`SKIPPED (not a pass): ${missing}`);
  return false;
}
