/** Health targets from configs: backend keys, probe ports, IPv6, disabled checks, and the fingerprint rule. */

import { describe, expect, test } from "bun:test";
import { targetId } from "../../src/health/target-key.ts";
import { healthTargets } from "../../src/health/targets.ts";
import { configFrom, service, type Patch } from "../support/load-helpers.ts";

const HEALTH = { enabled: true, interval_ms: 1000, timeout_ms: 500 };
const targetsOf = (...services: Patch[]) => healthTargets(configFrom({}, services));

describe("healthTargets", () => {
  test("one target per backend key: port-0 backends take the service's lowest port", () => {
    const targets = targetsOf(
      service({
        ports: [443, "8000-8001", 80],
        backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2", port: 8080 }],
        health: HEALTH,
      }),
    );
    expect(targets.map((t) => [t.id, t.service, t.backend, t.address, t.port, t.family])).toEqual([
      ["web/10.0.0.1:80", "web", "10.0.0.1:80", "10.0.0.1", 80, 4],
      ["web/10.0.0.2:8080", "web", "10.0.0.2:8080", "10.0.0.2", 8080, 4],
    ]);
  });

  test("the lowest port may come from port_ranges", () => {
    const [target] = targetsOf(service({ ports: [9000], port_ranges: [{ start: 70, end: 72 }], health: HEALTH }));
    expect(target).toMatchObject({ backend: "10.0.0.1:70", port: 70 });
  });

  test("health.port overrides the probe port, not the key", () => {
    const targets = targetsOf(
      service({ ports: [80], backends: [{ address: "10.0.0.1" }, { address: "10.0.0.2", port: 8080 }], health: { ...HEALTH, port: 9100 } }),
    );
    expect(targets.map((t) => [t.backend, t.port])).toEqual([
      ["10.0.0.1:80", 9100],
      ["10.0.0.2:8080", 9100],
    ]);
  });

  test("IPv6 keys are bracketed; the address is not", () => {
    const [target] = targetsOf(service({ vip: "2001:db8::10", backends: [{ address: "2001:db8::1", port: 8443 }], health: HEALTH }));
    expect(target).toMatchObject({ id: "web/[2001:db8::1]:8443", backend: "[2001:db8::1]:8443", address: "2001:db8::1", port: 8443, family: 6 });
  });

  test("services without enabled health have no targets", () => {
    const targets = targetsOf(
      service({ name: "off", health: { ...HEALTH, enabled: false } }),
      service({ name: "unset", ports: [81] }),
      service({ name: "block-without-enabled", ports: [82], health: { interval_ms: 1000, timeout_ms: 500 } }),
      service({ name: "on", ports: [83], health: HEALTH }),
    );
    expect(targets.map((t): string => t.id)).toEqual(["on/10.0.0.1:83"]);
  });

  test("a service with no backends has no targets", () => {
    expect(targetsOf(service({ backends: [], health: HEALTH }))).toEqual([]);
  });

  test("the same backend in two services is two targets", () => {
    const targets = targetsOf(service({ name: "a", health: HEALTH }), service({ name: "b", ports: [81], backends: [{ address: "10.0.0.1", port: 80 }], health: HEALTH }));
    expect(targets.map((t): string => t.id)).toEqual(["a/10.0.0.1:80", "b/10.0.0.1:80"]);
  });

  test("targets carry the service's health settings, check-specific keys included", () => {
    const [target] = targetsOf(service({ health: { ...HEALTH, type: "http", http_path: "/healthz", fail_after: 5 } }));
    expect(target!.health).toMatchObject({ type: "http", http_path: "/healthz", fail_after: 5, recover_after: 2, interval_ms: 1000, timeout_ms: 500 });
  });

  test("targetId joins service and key; a service name may hold slashes (k8s/<namespace>/<name>)", () => {
    expect(targetId({ service: "web", backend: "[::1]:80" }) as string).toBe("web/[::1]:80");
    expect(targetId({ service: "k8s/default/web", backend: "10.0.0.1:80" }) as string).toBe("k8s/default/web/10.0.0.1:80");
  });
});

describe("fingerprint", () => {
  const base = { ports: [80, 443], backends: [{ address: "10.0.0.1", weight: 1 }, { address: "10.0.0.2", port: 8080, weight: 1 }], health: HEALTH };
  const fingerprints = (patch: Patch) => targetsOf(service({ ...base, ...patch })).map((t) => t.fingerprint);
  const original = fingerprints({});

  test("the two targets of one service differ", () => {
    expect(original[0]).not.toBe(original[1]);
  });

  test("unchanged by weight edits, other services and the order of the health keys", () => {
    expect(fingerprints({ backends: [{ address: "10.0.0.1", weight: 7 }, { address: "10.0.0.2", port: 8080, weight: 0 }] })).toEqual(original);
    expect(fingerprints({ health: { timeout_ms: 500, interval_ms: 1000, enabled: true } })).toEqual(original);
    expect(fingerprints({ scheduler: "rr", ports: [80, 443, 8443] })).toEqual(original);
    const withOther = healthTargets(configFrom({}, [service(base), service({ name: "other", ports: [81], health: { ...HEALTH, interval_ms: 5000 } })]));
    expect(withOther.slice(0, 2).map((t) => t.fingerprint)).toEqual(original);
  });

  test.each<[string, Patch]>([
    ["interval_ms", { health: { ...HEALTH, interval_ms: 2000 } }],
    ["timeout_ms", { health: { ...HEALTH, timeout_ms: 400 } }],
    ["fail_after", { health: { ...HEALTH, fail_after: 4 } }],
    ["recover_after", { health: { ...HEALTH, recover_after: 1 } }],
    ["port", { health: { ...HEALTH, port: 9100 } }],
    ["type", { health: { ...HEALTH, type: "http" } }],
  ])("changed by a %s edit", (_name, patch) => {
    const changed = fingerprints(patch);
    expect(changed[0]).not.toBe(original[0]);
    expect(changed[1]).not.toBe(original[1]);
  });

  test("changed by a check-specific key", () => {
    expect(fingerprints({ health: { ...HEALTH, type: "http", http_path: "/ready" } })).not.toEqual(fingerprints({ health: { ...HEALTH, type: "http" } }));
    expect(fingerprints({ health: { ...HEALTH, type: "http", http_status: "200-299" } })).not.toEqual(fingerprints({ health: { ...HEALTH, type: "http", http_status: [200, "201-299"] } }));
  });

  test("changed when the key changes (a service's lowest port moves a port-0 backend)", () => {
    const [moved] = targetsOf(service({ ...base, ports: [81, 443] }));
    expect(moved!.backend).toBe("10.0.0.1:81");
    expect(moved!.fingerprint).not.toBe(original[0]);
  });

  test("changed when the service is renamed", () => {
    expect(fingerprints({ name: "web2" })[0]).not.toBe(original[0]);
  });
});
