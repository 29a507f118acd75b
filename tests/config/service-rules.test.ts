/** Every rule of service files (spec/config.md), each with a failing and a passing case. */

import { describe, expect, test } from "bun:test";
import { hasCheckSpecificKey } from "../../src/config/rules.ts";
import { CHECK_SPECIFIC_KEYS, HealthSchema } from "../../src/config/schema/health.ts";
import { SCHEDULERS } from "../../src/config/schema/service.ts";
import { loadPatched, service, type Patch } from "../support/load-helpers.ts";

interface Case {
  name: string;
  services: Patch[];
  main?: Patch;
  error?: [string, string];
}

const tcpHealth = (patch: Patch) => service({ health: { enabled: true, ...patch } });
const udp = (patch: Patch) => service({ protocol: "udp", ...patch });

const cases: Case[] = [
  { name: "name required", services: [service({ name: undefined })], error: ["services[0].name", '"name" is required'] },
  { name: "name pattern", services: [service({ name: "web/api" })], error: ["services[0].name", "1-64 characters"] },
  { name: "protocol UDP", services: [service({ protocol: "UDP" })] },
  { name: "protocol sctp", services: [service({ protocol: "sctp" })], error: ["services[0].protocol", "tcp, udp"] },
  { name: "no ports", services: [service({ ports: [] })], error: ["services[0].ports", "has no ports"] },
  { name: "only port_ranges", services: [service({ ports: undefined, port_ranges: [{ start: 9000, end: 9002 }] })] },
  { name: "port 0", services: [service({ ports: [0] })], error: ["services[0].ports[0]", "1-65535"] },
  { name: "port 65536", services: [service({ ports: [65536] })], error: ["services[0].ports[0]", "1-65535"] },
  { name: "port string range", services: [service({ ports: ["8000-8010", 80] })] },
  { name: "port string range reversed", services: [service({ ports: ["90-80"] })], error: ["services[0].ports[0]", "start must not exceed its end"] },
  { name: "port string garbage", services: [service({ ports: ["http"] })], error: ["services[0].ports[0]", 'a port (1-65535) or a range "A-B"'] },
  { name: "port_ranges reversed", services: [service({ port_ranges: [{ start: 10, end: 9 }] })], error: ["services[0].port_ranges[0].end", "start must not exceed end"] },
  { name: "port_ranges end 70000", services: [service({ port_ranges: [{ start: 10, end: 70000 }] })], error: ["services[0].port_ranges[0].end", "1 to 65535"] },
  { name: "same port twice in one service is merged", services: [service({ ports: [80, 80, "79-81"], port_ranges: [{ start: 80, end: 80 }] })] },
  {
    name: "same tcp:vip:port in two services",
    services: [service({ name: "a" }), service({ name: "b", ports: [443, 80] })],
    error: ["services[1].ports", 'tcp:192.0.2.10:80 is defined twice: by service "a"'],
  },
  {
    name: "same port through port_ranges points at port_ranges",
    services: [service({ name: "a" }), service({ name: "b", ports: [], port_ranges: [{ start: 79, end: 81 }] })],
    error: ["services[1].port_ranges", "defined twice"],
  },
  { name: "same port on tcp and udp", services: [service({ name: "a" }), udp({ name: "b" })] },
  {
    name: "same tcp:vip:port after a service on another VIP",
    services: [service({ name: "a" }), service({ name: "b", vip: "192.0.2.11" }), service({ name: "c" })],
    error: ["services[2].ports", 'tcp:192.0.2.10:80 is defined twice: by service "a"'],
  },
  {
    name: "same udp:vip:port after a tcp service on that port",
    services: [udp({ name: "a" }), service({ name: "b" }), udp({ name: "c" })],
    error: ["services[2].ports", 'udp:192.0.2.10:80 is defined twice: by service "a"'],
  },
  { name: "same port on two VIPs", services: [service({ name: "a" }), service({ name: "b", vip: "192.0.2.11" })] },
  { name: "same port on an explicit VIP equal to the default VIP", services: [service({ name: "a" }), service({ name: "b", vip: "192.0.2.10" })], error: ["services[1].ports", "defined twice"] },
  { name: "duplicate name", services: [service({ name: "a", ports: [1] }), service({ name: "a", ports: [2] })], error: ["services[1].name", 'service name "a" is already used'] },
  ...SCHEDULERS.map((scheduler) => ({ name: `scheduler ${scheduler}`, services: [service({ scheduler: scheduler.toUpperCase() })] })),
  { name: "scheduler unknown", services: [service({ scheduler: "random" })], error: ["services[0].scheduler", "rr, wrr, lc"] },
  { name: "mode override dr", services: [service({ mode: "dr" })] },
  { name: "mode override bogus", services: [service({ mode: "snat" })], error: ["services[0].mode", "nat, dr, tun"] },
  { name: "persistence", services: [service({ persistence: { timeout_seconds: 31536000 } })] },
  { name: "persistence 0", services: [service({ persistence: { timeout_seconds: 0 } })], error: ["services[0].persistence.timeout_seconds", "1 to 31536000"] },
  { name: "vip override IPv6 with IPv6 backends", services: [service({ vip: "2001:db8::20", backends: [{ address: "2001:db8::1" }] })] },
  { name: "vip override invalid", services: [service({ vip: "not-an-ip" })], error: ["services[0].vip", "IPv4 or IPv6"] },
  { name: "backends empty", services: [service({ backends: [] })] },
  { name: "backend address required", services: [service({ backends: [{ port: 80 }] })], error: ["services[0].backends[0].address", "required"] },
  { name: "backend address invalid", services: [service({ backends: [{ address: "10.0.0" }] })], error: ["services[0].backends[0].address", "IPv4 or IPv6"] },
  { name: "backend family differs from VIP", services: [service({ backends: [{ address: "2001:db8::1" }] })], error: ["services[0].backends[0].address", "address family"] },
  { name: "backend weight 0 (drained)", services: [service({ backends: [{ address: "10.0.0.1", weight: 0 }] })] },
  { name: "backend weight 65535", services: [service({ backends: [{ address: "10.0.0.1", weight: 65535 }] })] },
  { name: "backend weight 65536", services: [service({ backends: [{ address: "10.0.0.1", weight: 65536 }] })], error: ["services[0].backends[0].weight", "0 to 65535"] },
  { name: "backend port 70000", services: [service({ backends: [{ address: "10.0.0.1", port: 70000 }] })], error: ["services[0].backends[0].port", "0 to 65535"] },
  {
    name: "repeated backend",
    services: [service({ backends: [{ address: "10.0.0.1", port: 8080 }, { address: "10.0.0.1", port: 8080 }] })],
    error: ["services[0].backends[1]", "repeats backend 10.0.0.1:8080"],
  },
  {
    name: "same address, port 0 and the service port",
    services: [service({ backends: [{ address: "10.0.0.1" }, { address: "10.0.0.1", port: 80 }] })],
    error: ["services[0].backends[1]", "repeats backend 10.0.0.1:80"],
  },
  { name: "same address, different ports", services: [service({ backends: [{ address: "10.0.0.1", port: 8080 }, { address: "10.0.0.1", port: 8081 }] })] },
  {
    name: "dr with a remapped port",
    services: [service({ mode: "dr", backends: [{ address: "10.0.0.1", port: 8080 }] })],
    error: ["services[0].backends[0].port", "must be 0 or equal to every service port with mode dr"],
  },
  { name: "dr with the same port", services: [service({ mode: "dr", backends: [{ address: "10.0.0.1", port: 80 }] })] },
  {
    name: "tun (global) with a fixed port on a multi-port service",
    main: { mode: "tun" },
    services: [service({ ports: [80, 443], backends: [{ address: "10.0.0.1", port: 80 }] })],
    error: ["services[0].backends[0].port", "mode tun"],
  },
  { name: "nat remaps ports", services: [service({ backends: [{ address: "10.0.0.1", port: 8080 }] })] },
  { name: "health tcp on tcp", services: [tcpHealth({ type: "tcp" })] },
  { name: "health http on tcp", services: [tcpHealth({ type: "http", http_path: "/healthz", http_status: "200-299" })] },
  { name: "health udp_echo on tcp", services: [tcpHealth({ type: "udp_echo" })], error: ["services[0].health.type", "only apply to protocol: udp"] },
  { name: "health tcp on udp", services: [udp({ health: { enabled: true, type: "tcp" } })], error: ["services[0].health.type", "only apply to protocol: tcp"] },
  { name: "health udp_echo on udp", services: [udp({ health: { enabled: true, type: "udp_echo", payload: "PING" } })] },
  { name: "health udp_ntp on udp", services: [udp({ health: { enabled: true, type: "udp_ntp", ntp_max_stratum: 3 } })] },
  { name: "health udp_sip on udp", services: [udp({ health: { enabled: true, type: "udp_sip", sip_uri: "sip:ping@10.0.0.1", sip_expect_status: [200, "400-499"] } })] },
  { name: "health type unknown", services: [tcpHealth({ type: "icmp" })], error: ["services[0].health.type", "tcp, udp_echo"] },
  { name: "health timeout below interval", services: [tcpHealth({ interval_ms: 1000, timeout_ms: 999 })] },
  { name: "health timeout equal to interval", services: [tcpHealth({ interval_ms: 1000, timeout_ms: 1000 })], error: ["services[0].health.timeout_ms", "probes would overlap"] },
  { name: "health interval 50", services: [tcpHealth({ interval_ms: 50 })], error: ["services[0].health.interval_ms", "100 to 3600000"] },
  { name: "health timeout 5", services: [tcpHealth({ timeout_ms: 5 })], error: ["services[0].health.timeout_ms", "10 to 60000"] },
  { name: "health fail_after 100", services: [tcpHealth({ fail_after: 100, recover_after: 100 })] },
  { name: "health fail_after 101", services: [tcpHealth({ fail_after: 101 })], error: ["services[0].health.fail_after", "1 to 100"] },
  { name: "health recover_after 101", services: [tcpHealth({ recover_after: 101 })], error: ["services[0].health.recover_after", "1 to 100"] },
  { name: "health port 65536", services: [tcpHealth({ port: 65536 })], error: ["services[0].health.port", "0 to 65535"] },
  { name: "health key for another type", services: [tcpHealth({ type: "tcp", dns_query: "x.example" })], error: ["services[0].health.dns_query", "applies only to health type udp_dns"] },
  { name: "udp_dns needs dns_query", services: [udp({ health: { enabled: true, type: "udp_dns" } })], error: ["services[0].health.dns_query", "required for health type udp_dns"] },
  { name: "udp_dns complete", services: [udp({ health: { enabled: true, type: "udp_dns", dns_query: "a.example", dns_type: "AAAA", expect_rcode: ["NOERROR", "nxdomain"] } })] },
  { name: "udp_dns bad rcode", services: [udp({ health: { enabled: true, type: "udp_dns", dns_query: "a.example", expect_rcode: "OK" } })], error: ["services[0].health.expect_rcode", "RCODE"] },
  { name: "payload and payload_hex", services: [udp({ health: { enabled: true, type: "udp_echo", payload: "a", payload_hex: "61" } })], error: ["services[0].health.payload_hex", "not both"] },
  { name: "payload_hex odd length", services: [udp({ health: { enabled: true, type: "udp_echo", payload_hex: "abc" } })], error: ["services[0].health.payload_hex", "two per byte"] },
  { name: "http_status bad range", services: [tcpHealth({ type: "http", http_status: "399-200" })], error: ["services[0].health.http_status", "200-399"] },
  { name: "http_path without slash", services: [tcpHealth({ type: "http", http_path: "healthz" })], error: ["services[0].health.http_path", "starting with /"] },
  { name: "a disabled health block is not checked for type pairing (as in Go)", services: [udp({ health: { type: "tcp", interval_ms: 1000, timeout_ms: 1000 } })] },
  { name: "udp_dns key on a disabled tcp block", services: [service({ health: { dns_query: "x" } })], error: ["services[0].health.dns_query", "applies only to health type udp_dns"] },
  { name: "health http on udp", services: [udp({ health: { enabled: true, type: "http" } })], error: ["services[0].health.type", "only apply to protocol: tcp"] },
  { name: "health udp_dns on tcp", services: [tcpHealth({ type: "udp_dns", dns_query: "a.example" })], error: ["services[0].health.type", "only apply to protocol: udp"] },
  { name: "health udp_sip on tcp", services: [tcpHealth({ type: "udp_sip" })], error: ["services[0].health.type", "only apply to protocol: udp"] },
  { name: "health udp_ntp on tcp", services: [tcpHealth({ type: "udp_ntp" })], error: ["services[0].health.type", "only apply to protocol: udp"] },
  { name: "health udp_echo with every default", services: [udp({ health: { enabled: true, type: "udp_echo" } })] },
  { name: "udp_echo hex payload, text expect, no nonce", services: [udp({ health: { enabled: true, type: "udp_echo", payload_hex: "00ff", expect: "OK", nonce: false } })] },
  { name: "expect and expect_hex", services: [udp({ health: { enabled: true, type: "udp_echo", expect: "a", expect_hex: "61" } })], error: ["services[0].health.expect_hex", "not both"] },
  { name: "nonce not a boolean", services: [udp({ health: { enabled: true, type: "udp_echo", nonce: "sometimes" } })], error: ["services[0].health.nonce", "true or false"] },
  { name: "sip key on udp_echo", services: [udp({ health: { enabled: true, type: "udp_echo", sip_uri: "sip:a@b" } })], error: ["services[0].health.sip_uri", "applies only to health type udp_sip"] },
  { name: "ntp key on udp_dns", services: [udp({ health: { enabled: true, type: "udp_dns", dns_query: "a.example", ntp_max_stratum: 2 } })], error: ["services[0].health.ntp_max_stratum", "applies only to health type udp_ntp"] },
  { name: "http key on tcp", services: [tcpHealth({ type: "tcp", http_path: "/" })], error: ["services[0].health.http_path", "applies only to health type http"] },
  { name: "ntp_max_stratum 16", services: [udp({ health: { enabled: true, type: "udp_ntp", ntp_max_stratum: 16 } })], error: ["services[0].health.ntp_max_stratum", "1 to 15"] },
  { name: "ntp_max_stratum 0", services: [udp({ health: { enabled: true, type: "udp_ntp", ntp_max_stratum: 0 } })], error: ["services[0].health.ntp_max_stratum", "1 to 15"] },
  { name: "dns_query root and trailing dot", services: [udp({ health: { enabled: true, type: "udp_dns", dns_query: "health.example.com." } })] },
  { name: "dns_query empty label", services: [udp({ health: { enabled: true, type: "udp_dns", dns_query: "a..example" } })], error: ["services[0].health.dns_query", "empty labels"] },
  { name: "dns_query label of 64", services: [udp({ health: { enabled: true, type: "udp_dns", dns_query: `${"a".repeat(64)}.example` } })], error: ["services[0].health.dns_query", "at most 63"] },
  { name: "dns_query of 254 characters", services: [udp({ health: { enabled: true, type: "udp_dns", dns_query: `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}` } })], error: ["services[0].health.dns_query", "at most 253"] },
  { name: "dns_query of 253 characters", services: [udp({ health: { enabled: true, type: "udp_dns", dns_query: `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}` } })] },
  { name: "dns_query with a space", services: [udp({ health: { enabled: true, type: "udp_dns", dns_query: "a b.example" } })], error: ["services[0].health.dns_query", "visible ASCII"] },
  { name: "dns_type any case", services: [udp({ health: { enabled: true, type: "udp_dns", dns_query: "a.example", dns_type: "Srv" } })] },
  { name: "dns_type unknown", services: [udp({ health: { enabled: true, type: "udp_dns", dns_query: "a.example", dns_type: "caa" } })], error: ["services[0].health.dns_type", "a, aaaa"] },
  { name: "http_host with CRLF (header injection)", services: [tcpHealth({ type: "http", http_host: "a.example\r\nX-Evil: 1" })], error: ["services[0].health.http_host", "visible ASCII"] },
  { name: "http_host with a port", services: [tcpHealth({ type: "http", http_host: "app.example.com:8080" })] },
  { name: "http_path with non-ASCII", services: [tcpHealth({ type: "http", http_path: "/santé" })], error: ["services[0].health.http_path", "percent-encode"] },
  { name: "http_status list", services: [tcpHealth({ type: "http", http_status: [200, "300-302", "404"] })] },
  { name: "http_status 600", services: [tcpHealth({ type: "http", http_status: 600 })], error: ["services[0].health.http_status", "100-599"] },
  { name: "sip_uri not sip", services: [udp({ health: { enabled: true, type: "udp_sip", sip_uri: "http://a" } })], error: ["services[0].health.sip_uri", "SIP URI"] },
  { name: "sip_uri non-ASCII", services: [udp({ health: { enabled: true, type: "udp_sip", sip_uri: "sip:pïng@10.0.0.1" } })], error: ["services[0].health.sip_uri", "percent-encode"] },
  { name: "sip_expect_status range", services: [udp({ health: { enabled: true, type: "udp_sip", sip_expect_status: "200-299" } })] },
  { name: "unknown service key", services: [service({ virtual_ip: "192.0.2.1" })], error: ["services[0].virtual_ip", 'did you mean "vip"'] },
  { name: "unknown backend key", services: [service({ backends: [{ ip: "10.0.0.1" }] })], error: ["services[0].backends[0].ip", 'did you mean "address"'] },
  { name: "unknown health key", services: [tcpHealth({ retries: 3 })], error: ["services[0].health.retries", 'did you mean "fail_after"'] },
];

describe("service file rules", () => {
  for (const { name, services, main, error } of cases) {
    test(error ? `rejects: ${name}` : `accepts: ${name}`, () => {
      const loaded = loadPatched(main ?? {}, services);
      if (!error) {
        expect(loaded.errors).toBe("");
        return;
      }
      expect(loaded.result.ok).toBe(false);
      expect(loaded.paths).toContain(error[0]);
      expect(loaded.errors).toContain(error[1]);
    });
  }
});

describe("service defaults", () => {
  test("protocol, scheduler, backend port and weight, health", () => {
    const { result } = loadPatched({}, [{ name: "x", ports: [80], backends: [{ address: "10.0.0.1" }] }]);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const svc = result.config.services[0]!;
    expect(svc.protocol).toBe("tcp");
    expect(svc.scheduler).toBe("wlc");
    expect(svc.mode).toBeUndefined();
    expect(svc.persistence).toBeUndefined();
    expect(svc.backends).toEqual([{ address: "10.0.0.1", port: 0, weight: 1 }]);
    expect(svc.health).toEqual({ enabled: false, type: "tcp", port: 0, interval_ms: 2000, timeout_ms: 1000, fail_after: 3, recover_after: 2 });
  });

  test("persistence timeout defaults to 300", () => {
    const { result } = loadPatched({}, [service({ persistence: {} })]);
    expect(result.ok && result.config.services[0]!.persistence).toEqual({ timeout_seconds: 300 });
  });
});

describe("check-specific keys", () => {
  test("the quick presence test knows every key of CHECK_SPECIFIC_KEYS, and no other", () => {
    const base = { enabled: true, type: "tcp", port: 0, interval_ms: 2000, timeout_ms: 1000, fail_after: 3, recover_after: 2, slow_start_seconds: 5 };
    expect(hasCheckSpecificKey(base as never)).toBe(false);
    for (const key of Object.keys(CHECK_SPECIFIC_KEYS)) {
      expect({ key, found: hasCheckSpecificKey({ ...base, [key]: "x" } as never) }).toEqual({ key, found: true });
    }
    for (const key of Object.keys(HealthSchema.entries).filter((k) => !(k in CHECK_SPECIFIC_KEYS))) {
      expect({ key, found: hasCheckSpecificKey({ ...base, [key]: 1 } as never) }).toEqual({ key, found: false });
    }
  });
});
