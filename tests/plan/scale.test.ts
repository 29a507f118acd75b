/**
 * Every stage from config to plan is linear in ports × backends (issue 11 §3): four times the ports must cost
 * about four times as much, never the ~16 times of a lookup inside the loop over ports. Measured in CPU time (not
 * wall time, which other processes on a loaded machine inflate), the best of several runs, after a warm-up; a
 * stage is only failed when it stays above the bound on three attempts.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/model.ts";
import type { KernelServiceEntry } from "../../src/ipvs/types.ts";
import { desiredServices, type DesiredService } from "../../src/plan/desired.ts";
import { planChanges } from "../../src/plan/diff.ts";
import { configTree, MINIMAL_MAIN, type ConfigTree } from "../support/config-tree.ts";

const SMALL = 8_000;
const LARGE = 4 * SMALL;
/** Linear growth gives ~4; a quadratic stage gives ~16. */
const MAX_RATIO = 8;

function rangeService(ports: number): string {
  const backends = [1, 2, 3, 4].map((i) => `      - address: 10.0.0.${i}\n`).join("");
  return `services:\n  - name: rtp\n    protocol: udp\n    ports: ["2000-${2000 + ports - 1}"]\n    backends:\n${backends}`;
}

function cpuMs(work: () => unknown): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

function best(work: () => unknown, runs = 3): number {
  return Math.min(...Array.from({ length: runs }, () => cpuMs(work)));
}

/** The cost ratio LARGE/SMALL, retried: noise can inflate one attempt, a quadratic stage inflates every one. */
function growth(stage: (size: "small" | "large") => unknown): number[] {
  stage("small"); // warm-up: JIT and caches
  const ratios: number[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const ratio = best(() => stage("large")) / Math.max(best(() => stage("small")), 0.5);
    ratios.push(ratio);
    if (ratio < MAX_RATIO) break;
  }
  return ratios;
}

function asKernel(desired: readonly DesiredService[]): KernelServiceEntry[] {
  return desired.map((service) => ({
    service: { ...service, fwmark: 0 },
    destinations: service.destinations.map((d) => ({ ...d, activeConnections: 0, inactiveConnections: 0, persistentConnections: 0 })),
  }));
}

describe("cost grows with ports × backends, not its square", () => {
  const trees: Record<"small" | "large", ConfigTree> = {} as never;
  const configs: Record<"small" | "large", Config> = {} as never;
  const desired: Record<"small" | "large", DesiredService[]> = {} as never;
  const kernels: Record<"small" | "large", KernelServiceEntry[]> = {} as never;
  const isManagedVip = (address: string) => address === "192.0.2.10";

  beforeAll(() => {
    for (const [size, ports] of [["small", SMALL], ["large", LARGE]] as const) {
      trees[size] = configTree({ main: MINIMAL_MAIN, services: { "rtp.yaml": rangeService(ports) } });
      const loaded = loadConfig(trees[size].main, { env: {} });
      if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
      configs[size] = loaded.config;
      desired[size] = desiredServices(loaded.config);
      kernels[size] = asKernel(desired[size]);
    }
  });
  afterAll(() => {
    for (const tree of Object.values(trees)) tree.remove();
  });

  test("the stages see the whole range (a positive sign the measured work is the real work)", () => {
    expect(desired.large.length).toBe(LARGE);
    expect(desired.large.reduce((sum, s) => sum + s.destinations.length, 0)).toBe(4 * LARGE);
    expect(planChanges(desired.large, [], { isManagedVip }).changes.length).toBe(5 * LARGE);
    expect(planChanges(desired.large, kernels.large, { isManagedVip }).changes).toEqual([]);
  });

  test("load and validate", () => {
    const ratios = growth((size) => loadConfig(trees[size].main, { env: {} }));
    expect(ratios.at(-1)!).toBeLessThan(MAX_RATIO);
  }, 60_000);

  test("desired state", () => {
    const ratios = growth((size) => desiredServices(configs[size]));
    expect(ratios.at(-1)!).toBeLessThan(MAX_RATIO);
  }, 60_000);

  test("plan against an empty kernel", () => {
    const ratios = growth((size) => planChanges(desired[size], [], { isManagedVip }));
    expect(ratios.at(-1)!).toBeLessThan(MAX_RATIO);
  }, 60_000);

  test("plan against a kernel that already holds everything", () => {
    const ratios = growth((size) => planChanges(desired[size], kernels[size], { isManagedVip }));
    expect(ratios.at(-1)!).toBeLessThan(MAX_RATIO);
  }, 60_000);
});

describe("many backends on one address (one host, many ports)", () => {
  const trees: ConfigTree[] = [];
  afterAll(() => {
    for (const tree of trees) tree.remove();
  });

  function onOneHost(backends: number): { desired: DesiredService[]; kernel: KernelServiceEntry[] } {
    const list = Array.from({ length: backends }, (_, i) => `      - { address: 10.0.0.1, port: ${10000 + i} }
`).join("");
    const tree = configTree({ main: MINIMAL_MAIN, services: { "one-host.yaml": `services:\n  - name: pool\n    ports: [80]\n    backends:\n${list}` } });
    trees.push(tree);
    const loaded = loadConfig(tree.main, { env: {} });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues.slice(0, 3)));
    const desired = desiredServices(loaded.config);
    return { desired, kernel: asKernel(desired) };
  }

  test("a no-op plan grows linearly with the backends", () => {
    const sizes = { small: onOneHost(SMALL), large: onOneHost(LARGE) };
    expect(sizes.large.desired[0]!.destinations).toHaveLength(LARGE);
    expect(planChanges(sizes.large.desired, sizes.large.kernel, { isManagedVip: () => true }).changes).toEqual([]);
    const ratios = growth((size) => planChanges(sizes[size].desired, sizes[size].kernel, { isManagedVip: () => true }));
    expect(ratios.at(-1)!).toBeLessThan(MAX_RATIO);
  }, 60_000);
});
