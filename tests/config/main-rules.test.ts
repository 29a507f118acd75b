/** Every rule of the main file (spec/config.md), each with a failing and a passing case. */

import { describe, expect, test } from "bun:test";
import { loadPatched, type Patch } from "../support/load-helpers.ts";

interface Case {
  name: string;
  patch: Patch;
  /** Expected error path and a fragment of its message; undefined = valid. */
  error?: [string, string];
  /** For main-file cases that would clash with the default IPv4 test service. */
  noServices?: boolean;
}

const cases: Case[] = [
  { name: "node.name is required", patch: { node: { name: undefined } }, error: ["node.name", '"name" is required'] },
  { name: "node.name pattern", patch: { node: { name: "lb a" } }, error: ["node.name", "1-64 characters"] },
  { name: "node.name 64 chars ok", patch: { node: { name: "a".repeat(64) } } },
  { name: "node.name 65 chars", patch: { node: { name: "a".repeat(65) } }, error: ["node.name", "1-64"] },
  { name: "node.name with dots ok", patch: { node: { name: "lb-a.dc1" } } },
  { name: "role case-insensitive", patch: { node: { role: "Secondary" } } },
  { name: "role unknown", patch: { node: { role: "master" } }, error: ["node.role", "primary, secondary"] },
  { name: "mode upper case", patch: { mode: "DR" } },
  { name: "mode empty means default", patch: { mode: "" } },
  { name: "mode unknown", patch: { mode: "fast" }, error: ["mode", "nat, dr, tun"] },
  { name: "vip required", patch: { network: { frontend: { vip: undefined } } }, error: ["network.frontend.vip", '"vip" is required'] },
  { name: "vip must be an IP", patch: { network: { frontend: { vip: "192.0.2.300" } } }, error: ["network.frontend.vip", "IPv4 or IPv6"] },
  { name: "vip IPv6", patch: { network: { frontend: { vip: "2001:db8::10" } } }, noServices: true },
  { name: "interface VLAN name ok", patch: { network: { frontend: { interface: "eth0.100" } } } },
  { name: "interface too long", patch: { network: { frontend: { interface: "averyveryverylongname" } } }, error: ["network.frontend.interface", "1-15"] },
  { name: "cidr 24", patch: { network: { frontend: { cidr: 24 } } } },
  { name: "cidr 33 on IPv4", patch: { network: { frontend: { cidr: 33 } } }, error: ["network.frontend.cidr", "1-32"] },
  { name: "cidr 64 on IPv6", patch: { network: { frontend: { vip: "2001:db8::10", cidr: 64 } } }, noServices: true },
  { name: "cidr 0", patch: { network: { frontend: { cidr: 0 } } }, error: ["network.frontend.cidr", "from 1 to 128"] },
  { name: "backend interface optional", patch: { network: { backend: {} } } },
  { name: "vrrp ok", patch: { vrrp: { vrid: 50 } } },
  { name: "vrrp vrid required", patch: { vrrp: { priority_primary: 100 } }, error: ["vrrp.vrid", '"vrid" is required'] },
  { name: "vrrp vrid 0", patch: { vrrp: { vrid: 0 } }, error: ["vrrp.vrid", "1 to 255"] },
  { name: "vrrp priority 254", patch: { vrrp: { vrid: 1, priority_primary: 254 } } },
  { name: "vrrp priority 255 reserved", patch: { vrrp: { vrid: 1, priority_primary: 255 } }, error: ["vrrp.priority_primary", "reserved for the VRRP address owner"] },
  { name: "vrrp secondary priority 0", patch: { vrrp: { vrid: 1, priority_secondary: 0 } }, error: ["vrrp.priority_secondary", "1 to 254"] },
  { name: "advert 10", patch: { vrrp: { vrid: 1, advert_interval_ms: 10 } } },
  { name: "advert 40950", patch: { vrrp: { vrid: 1, advert_interval_ms: 40950 } } },
  { name: "advert not multiple of 10", patch: { vrrp: { vrid: 1, advert_interval_ms: 1005 } }, error: ["vrrp.advert_interval_ms", "multiple of 10"] },
  { name: "advert 40960", patch: { vrrp: { vrid: 1, advert_interval_ms: 40960 } }, error: ["vrrp.advert_interval_ms", "FRR"] },
  { name: "console level WARN", patch: { observability: { logging: { console: { level: "WARN" } } } } },
  { name: "console level warning", patch: { observability: { logging: { console: { level: "warning" } } } }, error: ["observability.logging.console.level", "debug, info, warn, error"] },
  { name: "console format json", patch: { observability: { logging: { console: { format: "json" } } } } },
  { name: "console format xml", patch: { observability: { logging: { console: { format: "xml" } } } }, error: ["observability.logging.console.format", "text, json"] },
  { name: "gelf enabled with host", patch: { observability: { logging: { gelf: { enabled: true, host: "logs", protocol: "TCP" } } } } },
  { name: "gelf enabled with an empty facility", patch: { observability: { logging: { gelf: { enabled: true, host: "logs", facility: "" } } } }, error: ["observability.logging.gelf.facility", "required when gelf.enabled"] },
  { name: "gelf enabled without host", patch: { observability: { logging: { gelf: { enabled: true } } } }, error: ["observability.logging.gelf.host", "required when gelf.enabled"] },
  { name: "gelf port 0 means the default", patch: { observability: { logging: { gelf: { port: 0 } } } } },
  { name: "gelf port 65536", patch: { observability: { logging: { gelf: { port: 65536 } } } }, error: ["observability.logging.gelf.port", "1 to 65535"] },
  { name: "gelf protocol quic", patch: { observability: { logging: { gelf: { protocol: "quic" } } } }, error: ["observability.logging.gelf.protocol", "udp, tcp"] },
  { name: "prometheus bind ::", patch: { observability: { metrics: { prometheus: { bind: "::" } } } } },
  { name: "prometheus bind empty", patch: { observability: { metrics: { prometheus: { bind: "" } } } } },
  { name: "prometheus bind hostname", patch: { observability: { metrics: { prometheus: { bind: "localhost" } } } }, error: ["observability.metrics.prometheus.bind", "IP address"] },
  { name: "prometheus path without slash", patch: { observability: { metrics: { prometheus: { path: "metrics" } } } }, error: ["observability.metrics.prometheus.path", "starting with /"] },
  { name: "prometheus port 70000", patch: { observability: { metrics: { prometheus: { port: 70000 } } } }, error: ["observability.metrics.prometheus.port", "1 to 65535"] },
  {
    name: "influxdb complete",
    patch: { observability: { metrics: { influxdb: { enabled: true, url: "http://influx:8086", token: "t", org: "o", bucket: "b" } } } },
  },
  { name: "influxdb without token", patch: { observability: { metrics: { influxdb: { enabled: true, url: "http://i", org: "o", bucket: "b" } } } }, error: ["observability.metrics.influxdb.token", "required when influxdb.enabled"] },
  { name: "influxdb bad url", patch: { observability: { metrics: { influxdb: { enabled: true, url: "influx:8086", token: "t", org: "o", bucket: "b" } } } }, error: ["observability.metrics.influxdb.url", "http://"] },
  { name: "influxdb interval 3601", patch: { observability: { metrics: { influxdb: { push_interval_seconds: 3601 } } } }, error: ["observability.metrics.influxdb.push_interval_seconds", "1 to 3600"] },
  { name: "profile Minimal", patch: { system: { tuning_profile: "Minimal" } } },
  { name: "profile turbo", patch: { system: { tuning_profile: "turbo" } }, error: ["system.tuning_profile", "minimal, balanced, aggressive"] },
  { name: "state_dir relative", patch: { system: { state_dir: "var/lib" } }, error: ["system.state_dir", "absolute path"] },
  { name: "lock timeout 1440", patch: { system: { lock_idle_timeout_minutes: 1440 } } },
  { name: "lock timeout 1441", patch: { system: { lock_idle_timeout_minutes: 1441 } }, error: ["system.lock_idle_timeout_minutes", "1 to 1440"] },
  { name: "reconcile 100", patch: { daemon: { reconcile_interval_ms: 100 } } },
  { name: "reconcile 50", patch: { daemon: { reconcile_interval_ms: 50 } }, error: ["daemon.reconcile_interval_ms", "100 to 60000"] },
  { name: "reconcile 60001", patch: { daemon: { reconcile_interval_ms: 60001 } }, error: ["daemon.reconcile_interval_ms", "100 to 60000"] },
  { name: "ttl below interval", patch: { daemon: { reconcile_interval_ms: 2000, state_cache: { ttl_ms: 1999 } } } },
  { name: "ttl equal to interval", patch: { daemon: { reconcile_interval_ms: 2000, state_cache: { ttl_ms: 2000 } } }, error: ["daemon.state_cache.ttl_ms", "less than daemon.reconcile_interval_ms"] },
  { name: "ttl 60001", patch: { daemon: { state_cache: { ttl_ms: 60001 } } }, error: ["daemon.state_cache.ttl_ms", "0 to 60000"] },
  { name: "stats cycles 3600", patch: { daemon: { stats_collection_interval_cycles: 3600 } } },
  { name: "stats cycles 0", patch: { daemon: { stats_collection_interval_cycles: 0 } }, error: ["daemon.stats_collection_interval_cycles", "1 to 3600"] },
  { name: "standby cold", patch: { daemon: { standby: "Cold" } } },
  { name: "standby hot", patch: { daemon: { standby: "hot" } }, error: ["daemon.standby", "warm, cold"] },
  { name: "socket relative", patch: { daemon: { socket: "lbctl.sock" } }, error: ["daemon.socket", "absolute path"] },
  { name: "change limits 0", patch: { daemon: { change_limits: { max_services_deleted: 0 } } } },
  { name: "change limits negative", patch: { daemon: { change_limits: { max_destinations_deleted: -1 } } }, error: ["daemon.change_limits.max_destinations_deleted", "0 to 1000000"] },
  {
    name: "control plane primary complete",
    patch: { control_plane: { enabled: true, mode: "primary", listen_address: "[::]:8443", tls: { cert: "/c", key: "/k", ca: "/a" } } },
  },
  { name: "control plane without certs", patch: { control_plane: { enabled: true } }, error: ["control_plane.tls.cert", "required when control_plane.enabled"] },
  {
    name: "control plane secondary without primary_address",
    patch: { control_plane: { enabled: true, mode: "secondary", tls: { cert: "/c", key: "/k", ca: "/a" } } },
    error: ["control_plane.primary_address", "HOST:PORT"],
  },
  {
    name: "control plane port out of range",
    patch: { control_plane: { enabled: true, listen_address: "0.0.0.0:99999", tls: { cert: "/c", key: "/k", ca: "/a" } } },
    error: ["control_plane.listen_address", "HOST:PORT"],
  },
  { name: "control plane sync 3601", patch: { control_plane: { sync_interval_seconds: 3601 } }, error: ["control_plane.sync_interval_seconds", "1 to 3600"] },
  { name: "unknown key with suggestion", patch: { daemon: { reconcile_interval: 1000 } }, error: ["daemon.reconcile_interval", 'did you mean "reconcile_interval_ms"'] },
  { name: "unknown top-level key", patch: { modes: "nat" }, error: ["modes", 'did you mean "mode"'] },
  { name: "services in the main file", patch: { services: [] }, error: ["services", "not allowed in the main file"] },
];

describe("main file rules", () => {
  for (const { name, patch, error, noServices } of cases) {
    test(error ? `rejects: ${name}` : `accepts: ${name}`, () => {
      const loaded = noServices ? loadPatched(patch, []) : loadPatched(patch);
      if (!error) {
        expect(loaded.errors).toBe("");
        expect(loaded.result.ok).toBe(true);
        return;
      }
      expect(loaded.result.ok).toBe(false);
      expect(loaded.paths).toContain(error[0]);
      expect(loaded.errors).toContain(error[1]);
    });
  }
});

describe("main file defaults", () => {
  test("every default of config.md", () => {
    const { result } = loadPatched({});
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const main = result.config.main;
    expect(main.mode).toBe("nat");
    expect(main.node.role).toBe("primary");
    expect(main.include).toBe("config.d/*.yaml");
    expect(main.observability.logging.console).toEqual({ enabled: true, level: "info", format: "text" });
    expect(main.observability.logging.gelf).toEqual({ enabled: false, host: "", port: 12201, protocol: "udp", facility: "lbctl" });
    expect(main.observability.metrics.prometheus).toEqual({ enabled: true, bind: "127.0.0.1", port: 9090, path: "/metrics" });
    expect(main.observability.metrics.influxdb.push_interval_seconds).toBe(30);
    expect(main.system).toEqual({
      state_dir: "/var/lib/lbctl",
      frr_config: "/etc/frr/frr.conf",
      sysctl_file: "/etc/sysctl.d/99-lbctl.conf",
      tuning_profile: "balanced",
      lock_idle_timeout_minutes: 10,
      snapshots_kept: 20,
    });
    expect(main.daemon).toEqual({
      reconcile_interval_ms: 1000,
      state_cache: { enabled: true, ttl_ms: 500 },
      stats_collection_interval_cycles: 5,
      socket: "/run/lbctl/lbctl.sock",
      standby: "warm",
      change_limits: { max_services_deleted: 10, max_destinations_deleted: 50 },
      drain: { enabled: true, timeout_seconds: 300 },
    });
    expect(main.control_plane.sync_interval_seconds).toBe(30);
    expect(main.vrrp).toBeUndefined();
  });

  test("vrrp defaults", () => {
    const { result } = loadPatched({ vrrp: { vrid: 7 } });
    expect(result.ok && result.config.main.vrrp).toEqual({ vrid: 7, priority_primary: 150, priority_secondary: 100, advert_interval_ms: 1000 });
  });

  test("0 means the default for reconcile_interval_ms, ttl_ms and lock_idle_timeout_minutes (as in Go)", () => {
    const { result } = loadPatched({
      daemon: { reconcile_interval_ms: 0, state_cache: { ttl_ms: 0 } },
      system: { lock_idle_timeout_minutes: 0 },
    });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.main.daemon.reconcile_interval_ms).toBe(1000);
    expect(result.config.main.daemon.state_cache.ttl_ms).toBe(500);
    expect(result.config.main.system.lock_idle_timeout_minutes).toBe(10);
  });

  test("the cache ttl defaults to half the reconcile interval", () => {
    const { result } = loadPatched({ daemon: { reconcile_interval_ms: 3000 } });
    expect(result.ok && result.config.main.daemon.state_cache.ttl_ms).toBe(1500);
  });

  test("enums are lower-cased and an empty string means the default", () => {
    const { result } = loadPatched({ mode: "TUN", node: { role: "" }, daemon: { standby: "COLD" } });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.config.main.mode).toBe("tun");
    expect(result.config.main.node.role).toBe("primary");
    expect(result.config.main.daemon.standby).toBe("cold");
  });

  test("IPv6 VIPs are stored in canonical form", () => {
    const { result } = loadPatched({ network: { frontend: { vip: "2001:DB8:0:0::10" } } }, []);
    expect(result.ok && result.config.main.network.frontend.vip).toBe("2001:db8::10");
  });
});
