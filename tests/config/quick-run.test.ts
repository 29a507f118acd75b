/**
 * The quick run of a schema stands in for valibot on valid files: whenever it gives an output, valibot must accept
 * the same input and give an equal output (same keys in the same order, same defaults, same conversions). Checked on
 * the corpus (main and service files) and on many mutations of their data; where the quick run declines, the
 * loader asks valibot, so declining is always safe.
 */

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { parse } from "yaml";
import { EnvValue } from "../../src/config/document.ts";
import { MainFileSchema } from "../../src/config/schema/main.ts";
import { INVALID, quickRun } from "../../src/config/schema/quick-run.ts";
import { ServiceFileSchema } from "../../src/config/schema/service.ts";
import { checkProperty, type Random } from "../support/seeded-random.ts";

const corpusDir = join(import.meta.dir, "corpus");

function corpus(kind: "main" | "service"): unknown[] {
  return readdirSync(corpusDir)
    .filter((name) => name.endsWith(".yaml"))
    .sort()
    .map((name) => readFileSync(join(corpusDir, name), "utf8"))
    .filter((text) => text.includes(`# kind: ${kind}`))
    .map((text) => {
      try {
        return parse(text);
      } catch {
        return undefined;
      }
    })
    .filter((data) => data !== undefined && data !== null);
}

const VALUES: unknown[] = [
  0, 1, 2, -1, 80, 65535, 65536, 1.5, 2000, "", "x", "80", "8000-8010", "90-80", "10.0.0.1", "2001:db8::1", "tcp", "udp",
  "wlc", "http", "nat", "DR", "yes", "off", true, false, null, undefined, [], {}, [80], ["80"], { start: 1, end: 2 },
  { address: "10.0.0.2" }, { enabled: true }, new EnvValue("5", "N"), new EnvValue("true", "B"), new EnvValue("x", "S"),
  // Near the common forms that leaves convert directly (a port's digits, a dotted quad, a listed word, a name).
  "0", "00080", "080", " 80", "65536", "123456", "+80", "8e1", -0, 0.5, 1e21, "10.0.0.01", " 10.0.0.1", "10.0.0.1 ", "1.2.3",
  "256.0.0.1", "::ffff:10.0.0.1", "WLC", " wlc", "Tcp", "svc-1", "svc 1", "-", "true", 3600001, 100, 99,
];
const KEYS = ["name", "ports", "port_ranges", "backends", "health", "address", "weight", "port", "enabled", "type", "interval_ms", "vip", "bogus", "scheduler", "mode", "node", "network", "services"];

/** A deep copy of plain data (EnvValue instances kept as they are). */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (value !== null && typeof value === "object" && !(value instanceof EnvValue)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, copy(item)]));
  }
  return value;
}

/** The containers (mappings and lists) of `data`, each with the keys it holds. */
function containers(data: unknown, out: Array<Record<string, unknown> | unknown[]> = []): Array<Record<string, unknown> | unknown[]> {
  if (Array.isArray(data)) {
    out.push(data);
    for (const item of data) containers(item, out);
  } else if (data !== null && typeof data === "object" && !(data instanceof EnvValue)) {
    out.push(data as Record<string, unknown>);
    for (const item of Object.values(data)) containers(item, out);
  }
  return out;
}

function mutate(data: unknown, random: Random): unknown {
  const out = copy(data);
  const edits = random.below(3);
  for (let e = 0; e < edits; e++) {
    const all = containers(out);
    if (all.length === 0) break;
    const target = random.pick(all);
    if (Array.isArray(target)) {
      if (target.length > 0 && random.chance(0.5)) target.push(copy(target[random.below(target.length)]));
      else if (target.length > 0 && random.chance(0.5)) target.splice(random.below(target.length), 1);
      else target.push(copy(random.pick(VALUES)));
      continue;
    }
    const keys = Object.keys(target);
    switch (random.below(3)) {
      case 0:
        if (keys.length > 0) delete target[random.pick(keys)];
        break;
      case 1:
        target[keys.length > 0 && random.chance(0.7) ? random.pick(keys) : random.pick(KEYS)] = copy(random.pick(VALUES));
        break;
      default:
        target[random.pick(KEYS)] = copy(random.pick(VALUES));
    }
  }
  return out;
}

const schemas = [
  { name: "service files", schema: ServiceFileSchema, seeds: corpus("service") },
  { name: "main files", schema: MainFileSchema, seeds: corpus("main") },
] as const;

describe("quick schema run", () => {
  for (const { name, schema, seeds } of schemas) {
    test(`${name}: whatever the quick run gives, valibot gives too`, () => {
      const quick = quickRun(schema as v.GenericSchema);
      let given = 0;
      let declined = 0;
      const runs = Number(process.env.QUICK_RUNS ?? 4000);
      checkProperty({ runs, generate: (random) => mutate(random.pick(seeds), random) }, (data) => {
        const output = quick(data);
        const reference = v.safeParse(schema, data, { abortEarly: false });
        if (output === INVALID) {
          declined++;
          return;
        }
        given++;
        expect(reference.issues).toBeUndefined();
        expect(output).toStrictEqual(reference.output);
        // Same key order as valibot's (observable in JSON output).
        expect(JSON.stringify(output)).toBe(JSON.stringify(reference.output));
      });
      expect(seeds.length).toBeGreaterThan(20);
      // Both outcomes well represented (about 13 % of mutated main files and 30 % of service files stay valid).
      expect(given).toBeGreaterThan(runs / 20);
      expect(declined).toBeGreaterThan(runs / 20);
    }, 120_000);
  }

  test("services without a health block each get a fresh default one", () => {
    const quick = quickRun(ServiceFileSchema);
    const output = quick({ services: [{ name: "a", ports: [80] }, { name: "b", ports: [81] }] });
    expect(output).not.toBe(INVALID);
    const services = (output as { services: Array<{ health: Record<string, unknown> }> }).services;
    expect(services[0]!.health).toEqual({ enabled: false, type: "tcp", port: 0, interval_ms: 2000, timeout_ms: 1000, fail_after: 3, recover_after: 2 });
    expect(services[0]!.health).not.toBe(services[1]!.health);
    expect(output).toStrictEqual(v.parse(ServiceFileSchema, { services: [{ name: "a", ports: [80] }, { name: "b", ports: [81] }] }));
  });

  test("a mapping with inherited keys (a `__proto__:` key read by the native parser) runs as valibot runs it", () => {
    const quick = quickRun(ServiceFileSchema);
    const inherited = [
      Object.setPrototypeOf({ ports: [80] }, { name: "a" }),
      Object.setPrototypeOf({ name: "a", ports: [80] }, { bogus: 1 }),
      Object.setPrototypeOf({ name: "a" }, { ports: ["81"], scheduler: "rr" }),
    ];
    for (const service of inherited) {
      const data = { services: [service] };
      const output = quick(data);
      const reference = v.safeParse(ServiceFileSchema, data, { abortEarly: false });
      if (output === INVALID) {
        expect(reference.success).toBe(false);
        continue;
      }
      expect(reference.issues).toBeUndefined();
      expect(JSON.stringify(output)).toBe(JSON.stringify(reference.output));
    }
  });
});
