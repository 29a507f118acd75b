/** Builds configs from small patches and loads them, for table-driven validation tests. */

import { stringify } from "yaml";
import { loadConfig, type LoadResult } from "../../src/config/load.ts";
import { configTree } from "./config-tree.ts";

export type Patch = Record<string, unknown>;

export const BASE_MAIN: Patch = { node: { name: "lb-a" }, network: { frontend: { vip: "192.0.2.10" } } };

export const BASE_SERVICE: Patch = {
  name: "web",
  protocol: "tcp",
  ports: [80],
  backends: [{ address: "10.0.0.1" }],
};

export function merge(base: Patch, patch: Patch): Patch {
  const out: Patch = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    if (value === undefined) delete out[key];
    else if (isPlain(value) && isPlain(current)) out[key] = merge(current, value);
    else out[key] = value;
  }
  return out;
}

function isPlain(value: unknown): value is Patch {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface Loaded {
  result: LoadResult;
  /** All error messages joined, with their paths, for `toContain` checks. */
  errors: string;
  paths: string[];
}

export function loadPatched(mainPatch: Patch = {}, services: Patch[] = [BASE_SERVICE], env: Record<string, string> = {}): Loaded {
  const tree = configTree({
    main: stringify(merge(BASE_MAIN, mainPatch)),
    services: services.length > 0 ? { "services.yaml": stringify({ services }) } : {},
  });
  try {
    const result = loadConfig(tree.main, { env });
    const issues = result.ok ? [] : result.issues;
    return {
      result,
      errors: issues.map((i) => `${i.path}: ${i.message}`).join("\n"),
      paths: issues.map((i) => i.path),
    };
  } finally {
    tree.remove();
  }
}

export function service(patch: Patch): Patch {
  return merge(BASE_SERVICE, patch);
}

/** A loaded, valid Config from patches (throws with the issues when invalid). */
export function configFrom(mainPatch: Patch = {}, services: Patch[] = [BASE_SERVICE]) {
  const { result } = loadPatched(mainPatch, services);
  if (!result.ok) throw new Error(result.issues.map((i) => `${i.path}: ${i.message}`).join("\n"));
  return result.config;
}
