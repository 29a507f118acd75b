/** The generated JSON Schema lets editors validate real config files without false alarms, and catches real errors. */

import { describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { configJsonSchema } from "../../src/config/json-schema.ts";

const root = join(import.meta.dir, "../..");

function validator(kind: "main" | "service") {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(configJsonSchema(kind));
}

describe("lbctl schema", () => {
  test("targets draft 2020-12", () => {
    expect(configJsonSchema("main").$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  });

  test("the shipped example files validate", () => {
    const main = validator("main");
    const service = validator("service");
    expect(main(parse(readFileSync(join(root, "dist/config.yaml.example"), "utf8")))).toBe(true);
    const ok = service(parse(readFileSync(join(root, "dist/config.d/example-service.yaml"), "utf8")));
    expect(service.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  test("numeric and boolean keys also accept a ${VAR} string", () => {
    const main = validator("main");
    const doc = {
      node: { name: "a" },
      network: { frontend: { vip: "${VIP}" } },
      observability: { metrics: { prometheus: { port: "${METRICS_PORT}", enabled: "${METRICS_ON}" } } },
    };
    expect(main(doc)).toBe(true);
  });

  test("case-insensitive enums and empty strings are accepted, unknown values are not", () => {
    const service = validator("service");
    expect(service({ services: [{ name: "a", ports: [80], scheduler: "WRR", protocol: "" }] })).toBe(true);
    expect(service({ services: [{ name: "a", ports: [80], scheduler: "fastest" }] })).toBe(false);
  });

  test("catches unknown keys, wrong types and out-of-range values", () => {
    const service = validator("service");
    expect(service({ services: [{ name: "a", ports: [80], virtual_ip: "1.2.3.4" }] })).toBe(false);
    expect(service({ services: [{ name: "a", ports: [70000] }] })).toBe(false);
    expect(service({ services: [{ name: "a", ports: [80], backends: [{ address: "10.0.0.1", weight: "heavy" }] }] })).toBe(false);
    const main = validator("main");
    expect(main({ node: { name: "a" }, network: { frontend: { vip: "1.2.3.4" } }, vrrp: { vrid: 1, advert_interval_ms: 1005 } })).toBe(false);
  });

  test.each([
    ["service", "service.schema.json"],
    ["main", "config.schema.json"],
  ] as const)("the %s schema written by the build matches what lbctl schema prints", (kind, file) => {
    const built = JSON.parse(readFileSync(join(root, "dist/schema", file), "utf8"));
    expect(built).toEqual(JSON.parse(JSON.stringify(configJsonSchema(kind))));
  });

  test("an optional key with no value (null) is accepted, as lbctl reads it as the default", () => {
    const service = validator("service");
    expect(service({ services: [{ name: "a", ports: [80], backends: null, health: null }] })).toBe(true);
    expect(service({ services: [{ name: null, ports: [80] }] })).toBe(false);
  });
});
