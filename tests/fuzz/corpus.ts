/**
 * The inputs the fuzzer starts from: the shipped example (dist/config.yaml.example with dist/config.d/) and every
 * YAML example of the docs and the README, grouped into configs the way tests/docs/examples.test.ts groups them.
 */

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MINIMAL_MAIN } from "../support/config-tree.ts";

const root = join(import.meta.dir, "../..");

/** One config: a main file (`config.yaml`) and service files under `config.d/`, by relative path. */
export interface Seed {
  name: string;
  files: Map<string, string>;
  env: Record<string, string>;
}

export function loadSeeds(): Seed[] {
  return [shippedExample(), ...docGroups(), ...readmeExamples()];
}

function shippedExample(): Seed {
  const files = new Map<string, string>([["config.yaml", readFileSync(join(root, "dist/config.yaml.example"), "utf8")]]);
  for (const name of readdirSync(join(root, "dist/config.d")).filter((f) => f.endsWith(".yaml"))) {
    files.set(`config.d/${name}`, readFileSync(join(root, "dist/config.d", name), "utf8"));
  }
  return { name: "dist/config.yaml.example", files, env: {} };
}

function docGroups(): Seed[] {
  const seeds = new Map<string, Seed>();
  const docs = join(root, "docs");
  for (const doc of readdirSync(docs).filter((f) => f.endsWith(".md"))) {
    const text = readFileSync(join(docs, doc), "utf8");
    for (const match of text.matchAll(/<!-- (?:check|check-invalid): (\S+?)\/(\S+)((?: \w+=\S*)*) -->\n```yaml\n([\s\S]*?)```/g)) {
      const [, group, file, envText, body] = match;
      const name = `docs/${doc}#${group}`;
      const seed: Seed = seeds.get(name) ?? { name, files: new Map(), env: {} };
      seed.files.set(file!, body!);
      for (const pair of envText!.trim().split(/\s+/).filter(Boolean)) {
        const [key, ...value] = pair.split("=");
        seed.env[key!] = value.join("=");
      }
      seeds.set(name, seed);
    }
  }
  for (const seed of seeds.values()) if (!seed.files.has("config.yaml")) seed.files.set("config.yaml", MINIMAL_MAIN);
  return [...seeds.values()];
}

function readmeExamples(): Seed[] {
  const text = readFileSync(join(root, "README.md"), "utf8");
  const files = new Map<string, string>();
  for (const [, file, body] of text.matchAll(/<!-- example: (\S+) -->\n```yaml\n([\s\S]*?)```/g)) files.set(file!, body!);
  if (!files.has("config.yaml")) files.set("config.yaml", MINIMAL_MAIN);
  return [{ name: "README.md", files, env: {} }];
}
