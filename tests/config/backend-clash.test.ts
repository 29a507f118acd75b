/**
 * A repeated backend (address, port) is found without expanding the service's ports (issue 11 §3): the same
 * findings as a port-by-port check, at any range size.
 */

import { afterEach, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import { configTree, oneService, type ConfigTree } from "../support/config-tree.ts";
import { seededRandom, testSeed } from "../support/seeded-random.ts";

let tree: ConfigTree | undefined;
afterEach(() => {
  tree?.remove();
  tree = undefined;
});

function errors(ports: string, backends: string): Array<[string, string]> {
  tree = configTree({ services: { "a.yaml": oneService(`ports: ${ports}\nbackends: ${backends}`) } });
  const result = loadConfig(tree.main, { env: {} });
  return result.ok ? [] : result.issues.map((issue) => [issue.path, issue.message]);
}

const clash = (index: number, key: string, earlier: number): [string, string] => [
  `services[0].backends[${index}]`,
  `repeats backend ${key} of services[0].backends[${earlier}]: each address and port may appear once per service`,
];

test("two port-0 backends on one address clash at the lowest service port", () => {
  expect(errors('["1000-60999"]', "[{ address: 10.0.0.1 }, { address: 10.0.0.2 }, { address: 10.0.0.1 }]")).toEqual([clash(2, "10.0.0.1:1000", 0)]);
});

test("a fixed port inside the range clashes with a port-0 backend, whichever comes first", () => {
  expect(errors('["1000-60999"]', "[{ address: 10.0.0.1 }, { address: 10.0.0.1, port: 60999 }]")).toEqual([clash(1, "10.0.0.1:60999", 0)]);
  expect(errors('["1000-60999"]', "[{ address: 10.0.0.1, port: 60999 }, { address: 10.0.0.1, port: 5000 }, { address: 10.0.0.1 }]")).toEqual([
    clash(2, "10.0.0.1:5000", 1),
  ]);
});

test("a fixed port outside the service's ports does not clash with a port-0 backend", () => {
  expect(errors("[80, 443]", "[{ address: 10.0.0.1 }, { address: 10.0.0.1, port: 8080 }]")).toEqual([]);
});

test("two backends with the same fixed port clash, with ports listed in any order and overlapping ranges", () => {
  expect(errors('["2000-3000", 80, "2500-4000"]', "[{ address: 10.0.0.1, port: 8080 }, { address: 10.0.0.1, port: 8080 }]")).toEqual([clash(1, "10.0.0.1:8080", 0)]);
});

/** The claims as the rules kept them before services with few backends got a list: a map per address. */
function referenceClashes(ports: readonly number[], backends: ReadonlyArray<{ address: string; port: number }>): Array<[string, string]> {
  const portSet = new Set(ports);
  const byAddress = new Map<string, { everyPort?: number; fixed: Map<number, number> }>();
  const found: Array<[string, string]> = [];
  backends.forEach(({ address, port }, index) => {
    let claims = byAddress.get(address);
    if (!claims) byAddress.set(address, (claims = { fixed: new Map() }));
    let hit: { earlier: number; port: number } | undefined;
    if (port !== 0) {
      const fixed = claims.fixed.get(port);
      if (fixed !== undefined) hit = { earlier: fixed, port };
      else if (claims.everyPort !== undefined && portSet.has(port)) hit = { earlier: claims.everyPort, port };
    } else if (claims.everyPort !== undefined) {
      hit = { earlier: claims.everyPort, port: ports[0]! };
    } else {
      for (const [fixedPort, earlier] of claims.fixed) if (portSet.has(fixedPort) && (!hit || fixedPort < hit.port)) hit = { earlier, port: fixedPort };
    }
    if (hit) found.push(clash(index, `${address}:${hit.port}`, hit.earlier));
    else if (port === 0) claims.everyPort = index;
    else claims.fixed.set(port, index);
  });
  return found;
}

test("few or many backends, the clashes are those of a map per address", () => {
  // A failure shows the seed: LBCTL_TEST_SEED=<seed> replays it.
  const seed = testSeed();
  const random = seededRandom(seed);
  const portChoices: Array<[string, number[]]> = [
    ["[80]", [80]],
    ["[80, 81]", [80, 81]],
    ['["1000-1010"]', Array.from({ length: 11 }, (_, i) => 1000 + i)],
    ["[8080, 1000]", [1000, 8080]],
  ];
  let clashes = 0;
  for (let run = 0; run < 150; run++) {
    const [portsText, ports] = random.pick(portChoices);
    const backends = Array.from({ length: 1 + random.below(24) }, () => ({
      address: random.pick(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"]),
      port: random.pick([0, 0, 80, 81, 1000, 1005, 8080, 9999]),
    }));
    const text = `[${backends.map((b) => `{ address: ${b.address}, port: ${b.port} }`).join(", ")}]`;
    const expected = referenceClashes(ports, backends);
    clashes += expected.length;
    tree?.remove();
    expect({ seed, run, backends, found: errors(portsText, text) }).toEqual({ seed, run, backends, found: expected });
  }
  expect(clashes).toBeGreaterThan(100);
});
