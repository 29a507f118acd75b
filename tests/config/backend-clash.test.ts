/**
 * A repeated backend (address, port) is found without expanding the service's ports (issue 11 §3): the same
 * findings as a port-by-port check, at any range size.
 */

import { afterEach, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import { configTree, oneService, type ConfigTree } from "../support/config-tree.ts";

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
