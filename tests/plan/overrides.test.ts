/** Operator overrides, pure: precedence with health, TTL on an injected wall clock, requests, and the persisted file. */

import { describe, expect, test } from "bun:test";
import { backendWeight } from "../../src/plan/backend-weight.ts";
import {
  decideOverride,
  expiredOverrides,
  MAX_OVERRIDES,
  OverrideFileError,
  parseOverrides,
  resolveBackend,
  serializeOverrides,
  type BackendOverride,
  type OverrideRequest,
} from "../../src/plan/overrides.ts";
import { parseDuration, formatDuration } from "../../src/config/duration.ts";

const by = { user: "alice", login_uid: 1000, sudo_user: "alice" };
const drain = { weight: 0, force: false };
const three = { weight: 3, force: false };
const forced = { weight: 3, force: true };

describe("backendWeight: health, then the override on top", () => {
  test.each([
    ["no override: the health rule", { checked: true, state: "healthy", adopting: false }, undefined, 5],
    ["no override, unhealthy", { checked: true, state: "unhealthy", adopting: false }, undefined, 0],
    ["drain beats healthy", { checked: true, state: "healthy", adopting: false }, drain, 0],
    ["drain of an unchecked backend", { checked: false, state: "unknown", adopting: false }, drain, 0],
    ["weight beats the configured weight", { checked: true, state: "healthy", adopting: false }, three, 3],
    ["weight while unknown (not yet probed)", { checked: true, state: "unknown", adopting: false }, three, 3],
    ["weight on an adopted backend replaces the kernel's", { checked: true, state: "unknown", adopting: true }, three, 3],
    ["weight never revives a backend health says is down", { checked: true, state: "unhealthy", adopting: false }, three, 0],
    ["… unless forced", { checked: true, state: "unhealthy", adopting: false }, forced, 3],
    ["checks off: health never says down", { checked: false, state: "unhealthy", adopting: false }, three, 3],
  ] as const)("%s", (_name, health, override, expected) => {
    expect(backendWeight(health, 5, override)).toBe(expected);
  });

  test("an override overrides a configured weight of 0 (the config's own drain)", () => {
    expect(backendWeight({ checked: false, state: "unknown", adopting: false }, 0, three)).toBe(3);
  });
});

const request = (patch: Partial<OverrideRequest>): OverrideRequest => ({ service: "web", backend: "10.0.0.1:80", action: "drain", by, ...patch });
const KEYS = ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.2:8080", "[2001:db8::1]:80"];

describe("decideOverride", () => {
  test("a drain with a TTL expires at now + TTL", () => {
    const decision = decideOverride(request({ ttl_ms: 60_000 }), KEYS, 0, 1_000_000);
    expect(decision).toEqual({ ok: true, backend: "10.0.0.1:80", override: { service: "web", backend: "10.0.0.1:80", kind: "drain", weight: 0, force: false, created_at: 1_000_000, expires_at: 1_060_000, by } });
  });

  test("weight needs a weight 0-65535; enable clears", () => {
    expect(decideOverride(request({ action: "weight" }), KEYS, 0, 0)).toMatchObject({ ok: false, status: 400 });
    expect(decideOverride(request({ action: "weight", weight: 70_000 }), KEYS, 0, 0)).toMatchObject({ ok: false, status: 400 });
    expect(decideOverride(request({ action: "weight", weight: 7, force: true }), KEYS, 0, 0)).toMatchObject({ ok: true, override: { kind: "weight", weight: 7, force: true } });
    expect(decideOverride(request({ action: "enable" }), KEYS, 0, 0)).toEqual({ ok: true, backend: "10.0.0.1:80", override: undefined });
    expect(decideOverride(request({ action: "drain", weight: 2 }), KEYS, 0, 0)).toMatchObject({ ok: false, status: 400 });
  });

  test("unknown services and backends are 404s naming what is missing; ambiguous addresses list the keys", () => {
    expect(decideOverride(request({}), undefined, 0, 0)).toEqual({ ok: false, status: 404, message: "No service named web in the running config" });
    expect(decideOverride(request({ backend: "10.0.0.9:80" }), KEYS, 0, 0)).toEqual({ ok: false, status: 404, message: "web has no backend 10.0.0.9:80" });
    expect(decideOverride(request({ backend: "10.0.0.2" }), KEYS, 0, 0)).toMatchObject({ ok: false, message: "web has several backends at 10.0.0.2: name one of 10.0.0.2:80, 10.0.0.2:8080" });
  });

  test("TTL bounds and the count bound", () => {
    expect(decideOverride(request({ ttl_ms: 0 }), KEYS, 0, 0)).toMatchObject({ ok: false, status: 400 });
    expect(decideOverride(request({ ttl_ms: 31 * 86_400_000 }), KEYS, 0, 0)).toMatchObject({ ok: false, status: 400 });
    expect(decideOverride(request({}), KEYS, MAX_OVERRIDES, 0)).toMatchObject({ ok: false, status: 409 });
    // Clearing is always possible, however many are held.
    expect(decideOverride(request({ action: "enable" }), KEYS, MAX_OVERRIDES, 0)).toMatchObject({ ok: true });
  });

  test("a bare address resolves when unique, IPv6 with or without brackets", () => {
    expect(resolveBackend(KEYS, "10.0.0.1")).toBe("10.0.0.1:80");
    expect(resolveBackend(KEYS, "2001:db8::1")).toBe("[2001:db8::1]:80");
    expect(resolveBackend(KEYS, "[2001:db8::1]")).toBe("[2001:db8::1]:80");
    expect(resolveBackend(KEYS, "10.0.0.1:81")).toEqual([]);
  });
});

describe("TTL on the wall clock", () => {
  const made = (expires_at?: number): BackendOverride => ({ service: "web", backend: "10.0.0.1:80", kind: "drain", weight: 0, force: false, created_at: 0, by, ...(expires_at ? { expires_at } : {}) });
  test("expired at and after expires_at, never without one", () => {
    const list = [made(1000), made()];
    expect(expiredOverrides(list, 999)).toEqual([]);
    expect(expiredOverrides(list, 1000)).toEqual([list[0]!]);
    expect(expiredOverrides(list, Number.MAX_SAFE_INTEGER)).toEqual([list[0]!]);
  });
});

describe("the persisted file", () => {
  const one: BackendOverride = { service: "web", backend: "10.0.0.1:80", kind: "weight", weight: 3, force: true, created_at: 5, expires_at: 10, by };
  test("round-trips", () => {
    expect(parseOverrides(serializeOverrides([one]), "f")).toEqual([one]);
  });

  test.each([
    ["not JSON", "{", "f is not valid JSON"],
    ["wrong version", '{"version":2,"overrides":[]}', 'must hold {"version": 1'],
    ["a drain with a weight", JSON.stringify({ version: 1, overrides: [{ ...one, kind: "drain" }] }), "f: overrides[0]: a drain has weight 0"],
    ["a weight out of range", JSON.stringify({ version: 1, overrides: [{ ...one, weight: 65_536 }] }), "weight must be 0-65535"],
    ["no actor", JSON.stringify({ version: 1, overrides: [{ ...one, by: {} }] }), "by.user must name who made it"],
    ["a duplicate", JSON.stringify({ version: 1, overrides: [one, one] }), "overrides[1]: a second override of web 10.0.0.1:80"],
    ["too many", JSON.stringify({ version: 1, overrides: Array(MAX_OVERRIDES + 1).fill(0) }), `more than ${MAX_OVERRIDES}`],
  ])("refuses %s, naming the file", (_name, text, message) => {
    expect(() => parseOverrides(text, "f")).toThrow(OverrideFileError);
    expect(() => parseOverrides(text, "f")).toThrow(message);
  });
});

describe("durations", () => {
  test.each([
    ["90", 90_000],
    ["90s", 90_000],
    ["15m", 900_000],
    ["1h30m", 5_400_000],
    ["2d", 172_800_000],
    ["250ms", 250],
  ])("%s", (text, ms) => expect(parseDuration(text)).toBe(ms));
  test.each(["", "0", "-5s", "5x", "1.5h", "h"])("refuses %p", (text) => expect(parseDuration(text)).toBeUndefined());
  test("formats the two largest units", () => {
    expect(formatDuration(5_400_000)).toBe("1h 30m");
    expect(formatDuration(42_000)).toBe("42s");
    expect(formatDuration(-5)).toBe("0s");
  });
});
