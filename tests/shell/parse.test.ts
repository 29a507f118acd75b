import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { HealthSchema } from "../../src/config/schema/health.ts";
import { ServiceSchema } from "../../src/config/schema/service.ts";
import { HEALTH_KEYS, SERVICE_WORDS } from "../../src/shell/grammar.ts";
import { completeLine, formatHelp, helpFor, parseBackend, parseLine, tokenize } from "../../src/shell/parse.ts";

const names = { services: ["web", "dns", "web-admin"], backends: ["10.0.0.1", "10.0.0.2:8080"] };

describe("parseLine", () => {
  test("full words, abbreviations and values", () => {
    expect(parseLine("show status", "root")).toEqual({ ok: true, run: "show-status", keywords: ["show", "status"], values: [] });
    expect(parseLine("sh vi", "root")).toMatchObject({ ok: true, run: "show-vips" });
    expect(parseLine("sh st", "root")).toMatchObject({ ok: false, message: 'ambiguous "st": status, stats' });
    expect(parseLine("conf", "root")).toMatchObject({ ok: true, run: "configure" });
    expect(parseLine("show service web", "root")).toMatchObject({ ok: true, run: "show-service", values: ["web"] });
    expect(parseLine("backend 10.0.0.1:8080 weight 5", "service")).toMatchObject({ ok: true, run: "backend", values: ["10.0.0.1:8080", "5"] });
    expect(parseLine("health type http", "service")).toMatchObject({ ok: true, run: "health-set", keywords: ["health", "type"], values: ["http"] });
    expect(parseLine('health payload "ping me"', "service")).toMatchObject({ ok: true, values: ["ping me"] });
    expect(parseLine("no health interval_ms", "service")).toMatchObject({ ok: true, run: "health-unset" });
    expect(parseLine("no health", "service")).toMatchObject({ ok: true, run: "health-clear" });
  });

  test("errors name the column and what was expected", () => {
    expect(parseLine("show bogus", "root")).toEqual({ ok: false, column: 6, message: expect.stringContaining('unknown word "bogus"') });
    expect(parseLine("s", "service")).toMatchObject({ ok: false, message: expect.stringContaining("ambiguous") });
    expect(parseLine("show", "root")).toMatchObject({ ok: false, message: expect.stringContaining("incomplete command; expected status, services") });
    expect(parseLine("scheduler fastest", "service")).toMatchObject({ ok: false, column: 11, message: expect.stringContaining('"fastest" is not one of rr, wrr') });
    expect(parseLine("backend 10.0.0.1 weight 70000", "service")).toMatchObject({ ok: false, message: expect.stringContaining("outside 0-65535") });
    expect(parseLine("ports 80,90-70", "service")).toMatchObject({ ok: false });
    expect(parseLine("service bad/name", "config")).toMatchObject({ ok: false, message: expect.stringContaining("not a service name") });
    expect(parseLine("exit now", "root")).toMatchObject({ ok: false, message: expect.stringContaining("the command ends before it") });
    expect(parseLine('health payload "open', "service")).toMatchObject({ ok: false, message: "a quote is not closed" });
  });

  test("every service key and every health key can be set", () => {
    const keys = Object.keys(ServiceSchema.entries).filter((k) => k !== "name" && k !== "port_ranges" && k !== "backends" && k !== "health");
    const words = SERVICE_WORDS.map((w) => w.text);
    for (const key of keys) expect(words).toContain(key);
    expect(words).toEqual(expect.arrayContaining(["port-range", "backend", "health"]));
    expect(HEALTH_KEYS.map((k) => k.text).sort()).toEqual(Object.keys(HealthSchema.entries).sort());
    expect(v.safeParse(HealthSchema, {}).success).toBe(true);
  });
});

describe("completion and help", () => {
  test("Tab completes keywords, fixed values and names; a single candidate gets its blank", () => {
    expect(completeLine("sh", "root")).toEqual({ candidates: ["show "], partial: "sh" });
    expect(completeLine("show s", "root").candidates).toEqual(["service", "services", "stats", "status"]);
    expect(completeLine("show service w", "root", names).candidates).toEqual(["web", "web-admin"]);
    expect(completeLine("scheduler w", "service").candidates).toEqual(["wlc", "wrr"]);
    expect(completeLine("health type udp_", "service").candidates).toEqual(["udp_dns", "udp_echo", "udp_ntp", "udp_sip"]);
    expect(completeLine("no backend 10.0.0.2", "service", names).candidates).toEqual(["10.0.0.2:8080 "]);
    expect(completeLine("", "config").candidates).toContain("commit");
    expect(completeLine("bogus ", "root").candidates).toEqual([]);
  });

  test("? lists what may come next with a description, and <cr> where the command may end", () => {
    const root = helpFor("", "root");
    expect(root.map((e) => e.word)).toEqual(["show", "doctor", "reload", "configure", "lock", "help", "exit"]);
    expect(root.every((e) => e.help.length > 10)).toBe(true);
    expect(helpFor("lock ", "root").map((e) => e.word)).toEqual(["status", "break"]);
    expect(helpFor("persistence ", "service").map((e) => e.word)).toEqual(["SECONDS", "<cr>"]);
    expect(helpFor("show s", "root").map((e) => e.word)).toEqual(["status", "services", "service", "stats"]);
    expect(formatHelp(helpFor("lock ", "root"))[0]).toBe("  status  Who holds the configuration lock");
  });

  test("tokens keep quoted blanks and their columns", () => {
    expect(tokenize(`a  "b c" d`)).toEqual({ tokens: [{ text: "a", start: 0 }, { text: "b c", start: 3 }, { text: "d", start: 9 }], open: false });
  });

  test("backend addresses", () => {
    expect(parseBackend("10.0.0.1")).toEqual({ address: "10.0.0.1", port: 0 });
    expect(parseBackend("10.0.0.1:81")).toEqual({ address: "10.0.0.1", port: 81 });
    expect(parseBackend("2001:db8::1")).toEqual({ address: "2001:db8::1", port: 0 });
    expect(parseBackend("[2001:db8::1]:81")).toEqual({ address: "2001:db8::1", port: 81 });
    expect(parseBackend("10.0.0.1:99999")).toBeUndefined();
    expect(parseBackend("host:80")).toBeUndefined();
  });
});
