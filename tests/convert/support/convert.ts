/** Converting texts in memory, and checking the result the way a user would: parsed YAML, and `lbctl validate`. */

import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { loadConfig } from "../../../src/config/load.ts";
import { formatIssue } from "../../../src/config/errors.ts";
import type { ConvertWarning } from "../../../src/convert/issues.ts";
import { convertKeepalived } from "../../../src/convert/keepalived/convert.ts";
import { convertNginx } from "../../../src/convert/nginx/convert.ts";
import type { NginxMapOptions } from "../../../src/convert/nginx/map.ts";
import { renderServiceFile } from "../../../src/convert/render.ts";
import { memoryReader } from "../../../src/convert/source.ts";

export interface Converted {
  /** Each service as its file reads back (parsed YAML). */
  services: Array<Record<string, unknown>>;
  texts: string[];
  warnings: ConvertWarning[];
}

const DATE = new Date("2026-01-02T03:04:05Z");

export function convertText(kind: "nginx" | "keepalived", text: string, options: NginxMapOptions = {}, extra: Record<string, string> = {}): Converted {
  const main = kind === "nginx" ? "/etc/nginx/nginx.conf" : "/etc/keepalived/keepalived.conf";
  const reader = memoryReader(new Map([[main, text], ...Object.entries(extra)]));
  const result = kind === "nginx" ? convertNginx(reader, main, options) : convertKeepalived(reader, main);
  const texts = result.services.map((s) => renderServiceFile(s, { generator: `lbctl convert ${kind}`, date: DATE }));
  return { services: texts.map((t) => (parse(t) as { services: Array<Record<string, unknown>> }).services[0]!), texts, warnings: result.warnings };
}

/** Loads the converted files with a main file, as `lbctl validate` does; returns the error lines (none when valid). */
export function validateWithMain(texts: readonly string[], vip = "192.0.2.10"): string[] {
  const dir = mkdtempSync(join(tmpdir(), "lbctl-convert-validate-"));
  mkdirSync(join(dir, "config.d"));
  writeFileSync(join(dir, "config.yaml"), `node:\n  name: lb-a\nnetwork:\n  frontend:\n    vip: ${vip}\n`);
  texts.forEach((text, i) => writeFileSync(join(dir, "config.d", `${String(i).padStart(3, "0")}.yaml`), text));
  const result = loadConfig(join(dir, "config.yaml"), { env: {} });
  return result.ok ? [] : result.issues.map(formatIssue);
}

/** `file:line directive` of each warning, for compact assertions. */
export function where(warnings: readonly ConvertWarning[]): string[] {
  return warnings.map((w) => `${w.line} ${w.directive}`);
}
