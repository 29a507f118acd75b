/**
 * Rules that a schema cannot express: conditional requirements, relations between keys, and relations across
 * files. Each finding names the file, line:column and key path, and says what is allowed.
 */

import { EnvValue, type YamlSource } from "./document.ts";
import { mappedIpv4 } from "./ip.ts";
import type { ConfigIssue } from "./errors.ts";
import { addressFamily, forwardMode, hostPort, serviceVip, servicePorts, type LoadedService } from "./model.ts";
import { isMulticast, parseIp } from "./ip.ts";
import { dnsNameProblem } from "./dns-name.ts";
import { CHECK_SPECIFIC_KEYS } from "./schema/health.ts";
import type { MainFile } from "./schema/main.ts";
import { checkKubernetes } from "./kubernetes-rules.ts";

export interface ServiceSource {
  source: YamlSource;
  services: LoadedService[];
}

export interface RuleFindings {
  errors: ConfigIssue[];
  /** Not errors: the deliberate differences from the Go LibraFlux that change what a valid file does. */
  notices: ConfigIssue[];
}

class Reporter {
  readonly errors: ConfigIssue[] = [];
  readonly notices: ConfigIssue[] = [];
  error(source: YamlSource, path: string, message: string): void {
    this.errors.push({ file: source.file, ...source.locate(path), path, message });
  }
  notice(source: YamlSource, path: string, message: string): void {
    this.notices.push({ file: source.file, ...source.locate(path), path, message });
  }
}

export function checkRules(mainSource: YamlSource, main: MainFile, serviceSources: readonly ServiceSource[]): RuleFindings {
  const report = new Reporter();
  checkMain(report, mainSource, main);
  const mainVip = written(mainSource, "network.frontend.vip", main.network.frontend.vip);
  const seen = new SeenServices();
  for (const { source, services } of serviceSources) {
    for (const service of services) {
      const ports = servicePorts(service);
      checkService(report, source, main, service, ports, mainVip);
      checkUniqueness(report, source, main, service, ports, mainVip, seen);
    }
  }
  checkBgp(report, mainSource, main, serviceSources);
  for (const issue of checkKubernetes(main, allServices(serviceSources))) {
    report.error(mainSource, issue.path, issue.message);
  }
  return { errors: report.errors, notices: report.notices };
}

/** The services of every file, in load order (a single file's list as it is: 5,000 services need no copy). */
export function allServices(serviceSources: readonly ServiceSource[]): LoadedService[] {
  if (serviceSources.length === 1) return serviceSources[0]!.services;
  const services: LoadedService[] = [];
  for (const source of serviceSources) for (const service of source.services) services.push(service);
  return services;
}

function checkMain(report: Reporter, source: YamlSource, main: MainFile): void {
  const frontend = main.network.frontend;
  const vipFamily = addressFamily(frontend.vip);
  if (frontend.cidr !== undefined && vipFamily === 4 && frontend.cidr > 32) {
    report.error(source, "network.frontend.cidr", `must be 1-32 for the IPv4 VIP ${frontend.vip}, got ${frontend.cidr}`);
  }
  const { gelf } = main.observability.logging;
  if (gelf.enabled && gelf.host.trim() === "") {
    report.error(source, "observability.logging.gelf.host", "is required when gelf.enabled is true");
  }
  if (gelf.enabled && gelf.facility.trim() === "") {
    report.error(source, "observability.logging.gelf.facility", "is required when gelf.enabled is true (default lbctl)");
  }
  const { prometheus, influxdb } = main.observability.metrics;
  if (prometheus.bind !== "" && !parseIp(prometheus.bind)) {
    report.error(source, "observability.metrics.prometheus.bind", `must be an IP address, 0.0.0.0, :: or empty, got "${prometheus.bind}"`);
  }
  if (influxdb.enabled) {
    for (const key of ["url", "token", "org", "bucket"] as const) {
      if (influxdb[key].trim() === "") report.error(source, `observability.metrics.influxdb.${key}`, "is required when influxdb.enabled is true");
    }
    if (influxdb.url !== "" && !/^https?:\/\/[^\s/]+/.test(influxdb.url)) {
      report.error(source, "observability.metrics.influxdb.url", `must be an http:// or https:// URL, got "${influxdb.url}"`);
    }
  }
  const { daemon } = main;
  if (daemon.state_cache.ttl_ms >= daemon.reconcile_interval_ms) {
    report.error(
      source,
      "daemon.state_cache.ttl_ms",
      `must be less than daemon.reconcile_interval_ms (${daemon.reconcile_interval_ms}), got ${daemon.state_cache.ttl_ms}: a cache older than one cycle would hide drift`,
    );
  }
  checkControlPlane(report, source, main);
  checkConnectionSync(report, source, main);
  if (main.mode !== "nat") report.notice(source, "mode", forwardNotice(main.mode));
}

function checkControlPlane(report: Reporter, source: YamlSource, main: MainFile): void {
  const cp = main.control_plane;
  if (!cp.enabled) return;
  if (cp.mode === undefined) report.error(source, "control_plane.mode", "is required when control_plane.enabled is true: primary or secondary");
  for (const key of ["cert", "key", "ca"] as const) {
    if (cp.tls[key].trim() === "") report.error(source, `control_plane.tls.${key}`, "is required when control_plane.enabled is true");
  }
  const [addressKey, address] =
    cp.mode === "secondary" ? (["primary_address", cp.primary_address] as const) : (["listen_address", cp.listen_address] as const);
  const port = Number(/:(\d{1,5})$/.exec(address)?.[1] ?? 0);
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/.test(address) || port < 1 || port > 65535) {
    report.error(source, `control_plane.${addressKey}`, `must be HOST:PORT (IPv6 as [ADDR]:PORT), got "${address}"`);
  }
  if (cp.mode !== undefined && cp.mode !== main.node.role) {
    report.notice(
      source,
      "control_plane.mode",
      `control_plane.mode is ${cp.mode} but node.role is ${main.node.role}: this node's VRRP role and its side of replication disagree (fine only during a planned role swap)`,
    );
  }
}

function checkConnectionSync(report: Reporter, source: YamlSource, main: MainFile): void {
  const sync = main.ha.connection_sync;
  if (!sync.enabled) return;
  if (sync.interface === undefined && main.network.frontend.interface === undefined) {
    report.error(source, "ha.connection_sync.interface", "is required when ha.connection_sync.enabled is true and network.frontend.interface is not set");
  }
  const group = parseIp(sync.mcast_group);
  if (group && !isMulticast(group)) {
    report.error(source, "ha.connection_sync.mcast_group", `must be a multicast group (224.0.0.0/4 or ff00::/8), got ${sync.mcast_group}`);
  }
  if (main.daemon.standby === "cold") {
    report.notice(
      source,
      "ha.connection_sync.enabled",
      "daemon.standby is cold: a standby director has no services, so the connections it receives cannot be bound to a backend until it takes over and programs them; warm standby keeps them ready",
    );
  }
}

/** `bgp:`: what a session needs, and what makes every director able to take any packet of an announced VIP. */
function checkBgp(report: Reporter, source: YamlSource, main: MainFile, serviceSources: readonly ServiceSource[]): void {
  const { bgp } = main;
  if (!bgp.enabled) return;
  if (bgp.local_asn === undefined) report.error(source, "bgp.local_asn", "is required when bgp.enabled is true");
  if (bgp.router_id === undefined) report.error(source, "bgp.router_id", "is required when bgp.enabled is true: an IPv4 address of this director");
  else if (addressFamily(bgp.router_id) !== 4) report.error(source, "bgp.router_id", `must be an IPv4 address (BGP's router id is 32 bits), got ${bgp.router_id}`);
  if (bgp.neighbors.length === 0) report.error(source, "bgp.neighbors", "needs at least one neighbor when bgp.enabled is true");
  bgp.communities.forEach((community, i) => {
    if (community.split(":").some((part) => Number(part) > 65535)) report.error(source, `bgp.communities[${i}]`, `must be ASN:VALUE with each part 0-65535, got ${community}`);
  });
  if (bgp.hold_seconds < 3 * bgp.keepalive_seconds) {
    report.error(source, "bgp.hold_seconds", `must be at least 3 × bgp.keepalive_seconds (${3 * bgp.keepalive_seconds}), got ${bgp.hold_seconds}`);
  }
  const vips = new Set(serviceSources.flatMap(({ services }) => services.map((service) => serviceVip(main, service))));
  bgp.announce.forEach((vip, i) => {
    if (!vips.has(vip)) report.error(source, `bgp.announce[${i}]`, `${written(source, `bgp.announce[${i}]`, vip)} is the VIP of no service: only VIPs of the service files are announced`);
  });
  const announced = bgp.announce.length > 0 ? new Set(bgp.announce) : vips;
  if (main.vrrp && bgp.announce.length === 0) {
    report.error(
      source,
      "bgp.announce",
      "is empty, so every VIP is announced over BGP, and the vrrp section would move the same VIPs: a VIP is either announced by every director (BGP) or held by one (VRRP); list the VIPs BGP announces, or drop the vrrp section",
    );
  }
  if (main.daemon.standby === "cold") {
    report.error(
      source,
      "daemon.standby",
      "must be warm with bgp.enabled: announced VIPs are never addresses of this director (lbctl makes them local with a route), so cold standby would keep their services out of the kernel",
    );
  }
  if (main.kubernetes.enabled) {
    report.notice(source, "bgp.enabled", "Kubernetes services are not announced over BGP: their NodePort backends need port translation (nat), which an ECMP fleet cannot do; they stay on VRRP-moved pool addresses");
  }
  for (const { source: file, services } of serviceSources) {
    for (const service of services) {
      if (!announced.has(serviceVip(main, service))) continue;
      const at = `services[${service.source.index}]`;
      if (forwardMode(main, service) === "nat") {
        report.error(
          file,
          `${at}.mode`,
          `service "${service.name}" is announced over BGP (bgp.enabled) and uses nat: with ECMP a flow's packets may reach any director and the replies must bypass them, so an announced service needs mode dr or tun`,
        );
      } else if (service.scheduler !== "mh") {
        report.notice(
          file,
          `${at}.scheduler`,
          `service "${service.name}" is announced over BGP with scheduler ${service.scheduler}: when routers rehash a flow to another director it may pick another backend; mh (Maglev hashing) makes every director pick the same backend`,
        );
      }
    }
  }
}

function forwardNotice(mode: string): string {
  return `mode ${mode}: destinations are programmed as ${mode === "dr" ? "direct routing (ipvsadm -g)" : "IP-in-IP tunnel (ipvsadm -i)"}; the Go LibraFlux programmed NAT for every mode. Backends must hold the VIP on a loopback/dummy interface with arp_ignore=1 and arp_announce=2`;
}

/**
 * `ports`: the service's expanded ports; `mainVip`: the main file's VIP as written there, for messages. Runs for
 * every service of every load (thousands): key paths are spelled out only for a finding.
 */
function checkService(report: Reporter, source: YamlSource, main: MainFile, service: LoadedService, ports: readonly number[], mainVip: string): void {
  if (ports.length === 0) {
    report.error(source, `${servicePath(service)}.ports`, `service "${service.name}" has no ports: set ports (e.g. [80, "8000-8010"]) or port_ranges`);
  }
  const vip = serviceVip(main, service);
  const family = addressFamily(vip);
  const mode = forwardMode(main, service);
  if (service.mode && service.mode !== "nat") report.notice(source, `${servicePath(service)}.mode`, forwardNotice(service.mode));
  const backends = service.backends;
  // Only backends that share an address can repeat a destination: most services have none, and need no claims.
  const claims = repeatsAnAddress(backends) ? new BackendClaims(ports, backends.length) : undefined;
  for (let j = 0; j < backends.length; j++) {
    const backend = backends[j]!;
    if (addressFamily(backend.address) !== family) {
      const at = servicePath(service);
      const address = written(source, `${backendPath(at, j)}.address`, backend.address);
      const mapped = mappedIpv4(backend.address);
      const hint = mapped && family === 4 ? ` (${address} is an IPv4-mapped IPv6 address: write ${mapped} for an IPv4 backend)` : "";
      report.error(
        source,
        `${backendPath(at, j)}.address`,
        `${address} is IPv${addressFamily(backend.address)} but the service's VIP ${(service.vip !== undefined ? written(source, `${at}.vip`, service.vip) : mainVip)} is IPv${family}: a backend must have the VIP's address family${hint}${vipHint(vip, family)}`,
      );
    }
    const clash = claims?.claim(backend.address, backend.port, j);
    if (clash) {
      const at = servicePath(service);
      const address = written(source, `${backendPath(at, j)}.address`, backend.address);
      report.error(source, backendPath(at, j), `repeats backend ${hostPort(address, clash.port)} of ${at}.backends[${clash.earlier}]: each address and port may appear once per service`);
    }
    if ((mode === "dr" || mode === "tun") && backend.port !== 0 && ports.some((port) => port !== backend.port)) {
      report.error(
        source,
        `${backendPath(servicePath(service), j)}.port`,
        `must be 0 or equal to every service port with mode ${mode} (the kernel cannot change ports when forwarding by ${mode === "dr" ? "direct routing" : "tunnel"}), got ${backend.port}`,
      );
    }
  }
  checkHealth(report, source, service);
  if (service.sorry_server !== undefined || service.quorum_hysteresis !== undefined) checkQuorum(report, source, service, family, mode, ports);
}

/** `services[N]`, the key path of a service in its file (spelled out only for a finding). */
function servicePath(service: LoadedService): string {
  return `services[${service.source.index}]`;
}

/** Whether two backends have the same address (few per service: compared in place, nothing allocated). */
function repeatsAnAddress(backends: LoadedService["backends"]): boolean {
  for (let j = 1; j < backends.length; j++) {
    const address = backends[j]!.address;
    for (let k = 0; k < j; k++) if (backends[k]!.address === address) return true;
  }
  return false;
}

/** quorum, quorum_hysteresis and sorry_server (keepalived's): the sorry server is a destination like a backend. */
function checkQuorum(report: Reporter, source: YamlSource, service: LoadedService, family: number, mode: string, ports: readonly number[]): void {
  const at = servicePath(service);
  const vs = { family, mode, ports };
  const sorry = service.sorry_server;
  const quorum = service.quorum ?? 1;
  const hysteresis = service.quorum_hysteresis ?? 0;
  if (service.quorum_hysteresis !== undefined && hysteresis >= quorum) {
    report.error(source, `${at}.quorum_hysteresis`, `must be less than quorum (${quorum}), got ${hysteresis}: the service could never lose quorum`);
  }
  if (!sorry) return;
  const path = `${at}.sorry_server`;
  if (addressFamily(sorry.address) !== vs.family) {
    report.error(source, path, `${written(source, path, sorry.address)} is IPv${addressFamily(sorry.address)} but the service's VIP is IPv${vs.family}: the sorry server must have the VIP's address family`);
  }
  if ((vs.mode === "dr" || vs.mode === "tun") && sorry.port !== 0 && vs.ports.some((port) => port !== sorry.port)) {
    report.error(source, path, `must have no port, or the service's port, with mode ${vs.mode} (the kernel cannot change ports when forwarding by ${vs.mode === "dr" ? "direct routing" : "tunnel"}), got ${sorry.port}`);
  }
  // The same destination on some virtual service of this service.
  const clash = service.backends.findIndex((b) => b.address === sorry.address && vs.ports.some((p) => (b.port || p) === (sorry.port || p)));
  if (clash >= 0) {
    // As written, with the service's port when none was (`ADDR` alone).
    const shown = written(source, path, sorry.address);
    const destination = sorry.port ? shown : hostPort(shown.replace(/^\[(.*)\]$/, "$1"), vs.ports[0] ?? 0);
    report.error(source, path, `${destination} is also ${at}.backends[${clash}]: the sorry server must be another destination`);
  }
}

function backendPath(at: string, index: number): string {
  return `${at}.backends[${index}]`;
}

/** The value at `path` as the file wrote it (before canonical formatting), for messages: `fallback` if absent. */
function written(source: YamlSource, path: string, fallback: string): string {
  let value: unknown = source.data;
  for (const [, key, index] of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (value === null || typeof value !== "object") return fallback;
    value = (value as Record<string, unknown>)[index ?? key!];
  }
  return typeof value === "string" || value instanceof EnvValue ? String(value) : fallback;
}

function vipHint(vip: string, family: number): string {
  const mapped = family === 6 ? mappedIpv4(vip) : undefined;
  return mapped ? ` (the VIP is an IPv4-mapped IPv6 address: write ${mapped} for an IPv4 service)` : "";
}

/**
 * Which backend first claimed each destination (address, port) of a service, without expanding ports: a backend
 * with port 0 claims its address on every service port, one with a port claims that port. Cost: the backends
 * sharing an address, not the service's ports (60,000-port RTP ranges are ordinary).
 */
class BackendClaims {
  /** Up to this many backends, the claims are a list searched in place (no map nor object per address). */
  static readonly #SHORT = 16;
  readonly #portList: readonly number[];
  /** The ports as a set, made on the first question (most services never ask: their backends differ). */
  #portSet: ReadonlySet<number> | undefined;
  readonly #lowest: number;
  /** Per address: the backend that takes every port (port 0), and those with a port of their own (made when needed). */
  readonly #byAddress: Map<string, { everyPort?: number; fixed?: Map<number, number> }> | undefined;
  // The recorded claims of a service with few backends, in parallel lists: address, port (0 = every port), backend.
  readonly #addresses: string[] = [];
  readonly #claimPorts: number[] = [];
  readonly #indexes: number[] = [];

  constructor(ports: readonly number[], backends: number) {
    this.#portList = ports;
    this.#lowest = ports[0] ?? 0;
    if (backends > BackendClaims.#SHORT) this.#byAddress = new Map();
  }

  get #ports(): ReadonlySet<number> {
    this.#portSet ??= new Set(this.#portList);
    return this.#portSet;
  }

  /** Records the backend's claim; returns the earlier backend it clashes with (and the first port of the clash). */
  claim(address: string, port: number, index: number): { earlier: number; port: number } | undefined {
    const byAddress = this.#byAddress;
    if (byAddress === undefined) {
      const clash = this.#clashInList(address, port);
      if (clash) return clash;
      this.#addresses.push(address);
      this.#claimPorts.push(port);
      this.#indexes.push(index);
      return undefined;
    }
    let claims = byAddress.get(address);
    if (!claims) byAddress.set(address, (claims = {}));
    const clash = this.#clash(claims, port);
    if (clash) return clash;
    if (port === 0) claims.everyPort = index;
    else (claims.fixed ??= new Map()).set(port, index);
    return undefined;
  }

  /** `#clash` over the list: an address holds at most one port-0 claim and one claim per port (later ones clash). */
  #clashInList(address: string, port: number): { earlier: number; port: number } | undefined {
    const addresses = this.#addresses;
    const claimPorts = this.#claimPorts;
    let everyPort = -1;
    for (let i = 0; i < addresses.length; i++) {
      if (addresses[i] !== address) continue;
      const claimed = claimPorts[i]!;
      if (claimed === 0) everyPort = this.#indexes[i]!;
      else if (port !== 0 && claimed === port) return { earlier: this.#indexes[i]!, port };
    }
    if (port !== 0) return everyPort >= 0 && this.#ports.has(port) ? { earlier: everyPort, port } : undefined;
    if (everyPort >= 0) return { earlier: everyPort, port: this.#lowest };
    let first: { earlier: number; port: number } | undefined;
    for (let i = 0; i < addresses.length; i++) {
      const claimed = claimPorts[i]!;
      if (addresses[i] === address && this.#ports.has(claimed) && (!first || claimed < first.port)) first = { earlier: this.#indexes[i]!, port: claimed };
    }
    return first;
  }

  #clash(claims: { everyPort?: number; fixed?: Map<number, number> }, port: number): { earlier: number; port: number } | undefined {
    if (port !== 0) {
      const fixed = claims.fixed?.get(port);
      if (fixed !== undefined) return { earlier: fixed, port };
      return claims.everyPort !== undefined && this.#ports.has(port) ? { earlier: claims.everyPort, port } : undefined;
    }
    if (claims.everyPort !== undefined) return { earlier: claims.everyPort, port: this.#lowest };
    let first: { earlier: number; port: number } | undefined;
    for (const [fixedPort, earlier] of claims.fixed ?? []) {
      if (this.#ports.has(fixedPort) && (!first || fixedPort < first.port)) first = { earlier, port: fixedPort };
    }
    return first;
  }
}

const CHECK_SPECIFIC_ENTRIES = Object.entries(CHECK_SPECIFIC_KEYS);

/**
 * Whether the block sets any key of CHECK_SPECIFIC_KEYS (tests/config/service-rules.test.ts checks the list). Spelled
 * out: a cold start runs this for every service in the interpreter, where a named read of a key that a block
 * does not have is cached, and one by a variable name is not.
 */
export function hasCheckSpecificKey(health: LoadedService["health"]): boolean {
  return (
    health.payload !== undefined ||
    health.expect !== undefined ||
    health.payload_hex !== undefined ||
    health.expect_hex !== undefined ||
    health.nonce !== undefined ||
    health.dns_query !== undefined ||
    health.dns_type !== undefined ||
    health.expect_rcode !== undefined ||
    health.sip_uri !== undefined ||
    health.sip_expect_status !== undefined ||
    health.ntp_max_stratum !== undefined ||
    health.http_path !== undefined ||
    health.http_host !== undefined ||
    health.http_status !== undefined ||
    health.http_weight_header !== undefined
  );
}

/** Keys set for a check type other than the block's. */
function checkSpecificKeys(report: Reporter, source: YamlSource, service: LoadedService): void {
  const health = service.health;
  for (let i = 0; i < CHECK_SPECIFIC_ENTRIES.length; i++) {
    const entry = CHECK_SPECIFIC_ENTRIES[i]!;
    const key = entry[0];
    const types = entry[1];
    if ((health as Record<string, unknown>)[key] !== undefined && !types.includes(health.type)) {
      report.error(source, `${servicePath(service)}.health.${key}`, `applies only to health type ${types.join(" or ")}, not ${health.type}`);
    }
  }
}

function checkHealth(report: Reporter, source: YamlSource, service: LoadedService): void {
  const health = service.health;
  if (hasCheckSpecificKey(health)) checkSpecificKeys(report, source, service);
  if (health.dns_query !== undefined || health.http_host !== undefined || health.http_path !== undefined || health.sip_uri !== undefined) {
    checkHealthText(report, source, health, `${servicePath(service)}.health`);
  }
  // A block without `enabled: true` is off; like the Go LibraFlux, its other settings are not held against it.
  if (!health.enabled) return;
  const path = `${servicePath(service)}.health`;
  const isUdpCheck = health.type.startsWith("udp_");
  if (isUdpCheck && service.protocol !== "udp") {
    report.error(source, `${path}.type`, `${health.type} checks only apply to protocol: udp services; use tcp or http for a TCP service`);
  }
  if (!isUdpCheck && service.protocol !== "tcp") {
    report.error(
      source,
      `${path}.type`,
      `${health.type} checks only apply to protocol: tcp services; a UDP service needs udp_echo, udp_dns, udp_sip or udp_ntp (a TCP connect says nothing about a UDP server)`,
    );
  }
  if (health.timeout_ms >= health.interval_ms) {
    report.error(
      source,
      `${path}.timeout_ms`,
      `must be less than interval_ms (${health.interval_ms}), got ${health.timeout_ms}: probes would overlap (the Go LibraFlux accepted this)`,
    );
  }
  if (health.payload !== undefined && health.payload_hex !== undefined) {
    report.error(source, `${path}.payload_hex`, "set payload or payload_hex, not both");
  }
  if (health.expect !== undefined && health.expect_hex !== undefined) {
    report.error(source, `${path}.expect_hex`, "set expect or expect_hex, not both");
  }
  if (health.type === "udp_dns" && health.dns_query === undefined) {
    report.error(source, `${path}.dns_query`, "is required for health type udp_dns (the name to query, e.g. health.example.com)");
  }
}

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
const WIRE_TEXT: ReadonlyArray<readonly [key: "http_host" | "http_path" | "sip_uri", what: string]> = [
  ["http_host", "a host name or address, optionally with :port"],
  ["http_path", "a path (percent-encode other characters)"],
  ["sip_uri", "a SIP URI (percent-encode other characters)"],
];

/**
 * Values the checks put on the wire as text: a DNS name must be sendable, and HTTP and SIP values must be visible
 * ASCII, so that no value can add a header line (CR, LF) or break the request line (spaces).
 */
function checkHealthText(report: Reporter, source: YamlSource, health: LoadedService["health"], path: string): void {
  if (health.dns_query !== undefined) {
    const problem = dnsNameProblem(health.dns_query);
    if (problem !== undefined) report.error(source, `${path}.dns_query`, `${problem}, got ${JSON.stringify(health.dns_query)}`);
  }
  for (const [key, what] of WIRE_TEXT) {
    const value = health[key];
    if (value !== undefined && !VISIBLE_ASCII.test(value)) {
      report.error(source, `${path}.${key}`, `must be ${what} of visible ASCII characters, without spaces or control characters, got ${JSON.stringify(value)}`);
    }
  }
}

function checkUniqueness(
  report: Reporter,
  source: YamlSource,
  main: MainFile,
  service: LoadedService,
  ports: readonly number[],
  mainVip: string,
  seen: SeenServices,
): void {
  const earlierName = seen.names.get(service.name);
  if (earlierName) {
    report.error(source, `${servicePath(service)}.name`, `service name "${service.name}" is already used by ${place(earlierName)}: names must be unique across all files`);
  } else {
    seen.names.set(service.name, service);
  }
  const byPort = seen.portsOf(service.protocol, serviceVip(main, service));
  for (const port of ports) {
    const earlier = byPort.get(port);
    if (earlier) {
      const at = servicePath(service);
      // The VIP as this service's file wrote it (`::ffff:10.0.0.1`, not the canonical `::ffff:a00:1`).
      const shownVip = service.vip !== undefined ? written(source, `${at}.vip`, service.vip) : mainVip;
      const identity = `${service.protocol}:${hostPort(shownVip, port)}`;
      const inPorts = service.ports.some((range) => port >= range.start && port <= range.end);
      report.error(
        source,
        `${at}.${inPorts ? "ports" : "port_ranges"}`,
        `${identity} is defined twice: by service "${earlier.name}" (${place(earlier)}) and by service "${service.name}" (${place(service)})`,
      );
      return;
    }
    byPort.set(port, service);
  }
}

/** The services seen so far: by name, and by protocol, VIP and port (the virtual services they define). */
class SeenServices {
  readonly names = new Map<string, LoadedService>();
  // Keyed by protocol and VIP, then by port number: no string is built per port.
  readonly #virtualServices = new Map<string, Map<number, LoadedService>>();
  // The last protocol and VIP asked for: most services share both (no key built nor looked up for them).
  #lastProtocol = "";
  #lastVip = "";
  #lastPorts: Map<number, LoadedService> | undefined;

  /** The services by port of one protocol and VIP. */
  portsOf(protocol: string, vip: string): Map<number, LoadedService> {
    if (this.#lastPorts !== undefined && protocol === this.#lastProtocol && vip === this.#lastVip) return this.#lastPorts;
    const identity = `${protocol}:${vip}`;
    let byPort = this.#virtualServices.get(identity);
    if (!byPort) this.#virtualServices.set(identity, (byPort = new Map()));
    this.#lastProtocol = protocol;
    this.#lastVip = vip;
    this.#lastPorts = byPort;
    return byPort;
  }
}

function place(service: LoadedService): string {
  return `${service.source.file} services[${service.source.index}]`;
}
