/** A validated Config for tests of host integration, built through the real loader (so defaults are real). */

import { loadConfig } from "../../../src/config/load.ts";
import type { Config } from "../../../src/config/model.ts";
import { stringify } from "yaml";
import { configTree } from "../../support/config-tree.ts";

export interface TestConfigOptions {
  main?: Record<string, unknown>;
  services?: Record<string, unknown>[];
  /** Frontend interface; null leaves it out. */
  frontendInterface?: string | null;
}

export function testConfig(options: TestConfigOptions): Config {
  const { node, network, ...rest } = (options.main ?? {}) as { node?: object; network?: object };
  const frontend = { vip: "192.0.2.10", ...(options.frontendInterface === null ? {} : { interface: options.frontendInterface ?? "eth0" }) };
  const main = { node: { name: "lb-a", ...node }, network: { frontend, ...network }, ...rest };
  const tree = configTree({ main: stringify(main), services: { "s.yaml": stringify({ services: options.services ?? [] }) } });
  try {
    const loaded = loadConfig(tree.main);
    if (!loaded.ok) throw new Error(`test config invalid: ${JSON.stringify(loaded.issues)}`);
    return loaded.config;
  } finally {
    tree.remove();
  }
}
