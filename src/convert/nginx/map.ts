/**
 * nginx's L4 services as lbctl services (issue 14 §2): every `stream { server { listen; proxy_pass; } }` becomes
 * one service per (upstream, protocol, VIP) with its ports merged, and everything that cannot be carried over is a
 * located warning. `http { }` servers are warned about, or converted as TCP with --http-as-tcp. Pure: no I/O.
 */

import { serviceName, type ConvertedService, type DraftHealth } from "../draft.ts";
import { ConvertError, inSourceOrder, type ConvertWarning } from "../issues.ts";
import { parseEndpoint, parseTimeMs, splitParam } from "./address.ts";
import { parseListen, type Listen } from "./listen.ts";
import type { Directive, NginxConfig } from "./parse.ts";
import { convertSingle, convertUpstream, passiveHealth, endpointText, type Context, type UpstreamResult } from "./upstream.ts";
import type { Claim } from "./claim.ts";
import { httpServerAsTcp } from "./http.ts";

export interface NginxMapOptions {
  httpAsTcp?: boolean;
  resolved?: ReadonlyMap<string, readonly string[]>;
}

export interface Conversion {
  services: ConvertedService[];
  warnings: ConvertWarning[];
}

/** Directives of a stream server that change nothing IPVS would do, or are reported elsewhere. */
const STREAM_QUIET = new Set(["listen", "proxy_pass", "health_check", "health_check_timeout", "access_log", "error_log", "log_format", "status_zone", "resolver", "resolver_timeout", "tcp_nodelay", "preread_buffer_size", "preread_timeout", "proxy_connect_timeout", "proxy_timeout", "proxy_buffer_size", "proxy_next_upstream", "proxy_next_upstream_tries", "proxy_next_upstream_timeout", "proxy_socket_keepalive", "proxy_requests", "proxy_responses", "proxy_half_close", "server_name"]);

export function mapNginx(config: NginxConfig, options: NginxMapOptions = {}): Conversion {
  const warnings: ConvertWarning[] = [];
  const warn = (d: Directive, message: string, detail?: string[]) => {
    warnings.push({ file: d.file, line: d.line, directive: d.name, message, ...(detail ? { detail } : {}) });
  };
  const claims: Claim[] = [];
  const upstreamsByContext: Record<Context, Map<string, Directive>> = { stream: new Map(), http: new Map() };
  const matches = new Map<string, Directive>();
  for (const top of config.directives) {
    if (top.name === "stream" && top.block) {
      collect(top.block, "stream", upstreamsByContext.stream, matches);
    } else if (top.name === "http" && top.block) collect(top.block, "http", upstreamsByContext.http, matches);
    else if (top.name === "mail" && top.block) warn(top, "the mail proxy is not converted", ["lbctl balances TCP/UDP connections; run a mail proxy behind it if you need one."]);
  }
  for (const top of config.directives) {
    if (top.name === "stream" && top.block) streamClaims(top.block, upstreamsByContext.stream, claims, warn);
    if (top.name === "http" && top.block) {
      for (const d of top.block) {
        if (d.name !== "server" || !d.block) continue;
        if (!options.httpAsTcp) {
          warn(d, "HTTP routing detected (http server block) and not converted", [
            "LibraFlux cannot convert L7 HTTP rules to L4 IPVS. These directives will be ignored.",
            "A server whose only routing is `location / { proxy_pass http://UPSTREAM; }` converts to a TCP service with --http-as-tcp.",
          ]);
          continue;
        }
        const claim = httpServerAsTcp(d, upstreamsByContext.http, warn);
        if (claim) claims.push(...claim);
      }
    }
  }
  checkConflicts(claims);
  const services = groupClaims(claims, matches, options, warn);
  return { services, warnings: inSourceOrder(warnings, config.files) };
}

function collect(block: Directive[], context: Context, upstreams: Map<string, Directive>, matches: Map<string, Directive>): void {
  for (const d of block) {
    if (d.name === "upstream" && d.block && d.args[0]) upstreams.set(d.args[0], d);
    if (d.name === "match" && d.block && d.args[0] && context === "stream") matches.set(d.args[0], d);
  }
}

type Warn = (d: Directive, message: string, detail?: string[]) => void;

function streamClaims(block: Directive[], upstreams: Map<string, Directive>, claims: Claim[], warn: Warn): void {
  for (const d of block) {
    if (d.name === "map") warn(d, `map ${d.args.join(" ")} routes by variable and is not converted`, ["L4 IPVS picks backends by the scheduler only; it cannot route on SNI, client address maps or other variables.", "Give each route its own VIP or port, then each becomes a service."]);
    else if (d.name === "ssl_preread" && d.args[0] === "on") warn(d, "ssl_preread (routing by TLS SNI) cannot be converted", ["IPVS never reads the TLS handshake; every connection to a port goes to the same backend pool."]);
    else if (d.name === "server" && d.block) serverClaims(d, upstreams, claims, warn);
    else if (d.name === "proxy_protocol" && d.args[0] === "on") warn(d, "proxy_protocol on (for every server): the backends expect a PROXY header that IPVS does not send", ["With NAT or DR the backends see the client's address directly: turn PROXY protocol off on the backends."]);
  }
}

function serverClaims(server: Directive, upstreams: Map<string, Directive>, claims: Claim[], warn: Warn): void {
  const body = server.block ?? [];
  const listens: Listen[] = [];
  let proxyPass: Directive | undefined;
  let health: Directive | undefined;
  for (const d of body) {
    if (d.name === "listen") {
      const parsed = parseListen(d, "stream");
      if (!parsed.ok) {
        warn(d, `${parsed.reason}; this listen is not converted`);
        continue;
      }
      const l = parsed.listen;
      if (l.ssl) warn(d, `SSL termination detected in server block (listen ${d.args.join(" ")})`, ["LibraFlux operates at L4 and cannot terminate SSL: the backends will receive the clients' TLS as is.", "Consider using Nginx as L7 frontend with LibraFlux as L4 backend, or terminate TLS on the backends."]);
      if (l.proxyProtocol) warn(d, "listen ... proxy_protocol: clients' PROXY protocol headers reach the backends unread", ["IPVS does not parse PROXY protocol; with NAT or DR the backends see the client's address directly, so the sender can stop adding it."]);
      listens.push(l);
    } else if (d.name === "proxy_pass") proxyPass = d;
    else if (d.name === "health_check") health = d;
    else if (d.name === "ssl_preread" && d.args[0] === "on") warn(d, "ssl_preread (routing by TLS SNI) cannot be converted", ["IPVS never reads the TLS handshake; every connection to a port goes to the same backend pool."]);
    else if (d.name === "proxy_protocol" && d.args[0] === "on") warn(d, "proxy_protocol on: the backends expect a PROXY header that IPVS does not send", ["With NAT or DR the backends see the client's address directly: turn PROXY protocol off on the backends."]);
    else if (d.name === "proxy_ssl" && d.args[0] === "on") warn(d, "proxy_ssl on: nginx spoke TLS to the backends; IPVS forwards the clients' bytes unchanged", ["Clients must speak TLS to the VIP themselves, or the backends must accept plain connections."]);
    else if (d.name.startsWith("ssl_") || d.name.startsWith("proxy_ssl")) continue;
    else if (!STREAM_QUIET.has(d.name)) warn(d, `"${d.name}" is not carried over`, ["It has no IPVS equivalent; lbctl forwards connections without inspecting them."]);
  }
  if (!proxyPass) {
    if (listens.length > 0) warn(server, "server without proxy_pass is not converted", ["Only servers that proxy to an upstream or an address become services."]);
    return;
  }
  const target = proxyPass.args[0] ?? "";
  if (target.includes("$")) {
    warn(proxyPass, `proxy_pass ${target} uses variables and is not converted`, ["The backend is chosen per connection (ssl_preread, map); L4 IPVS has one backend pool per port.", "Give each route its own VIP or port, then convert each as a service."]);
    return;
  }
  const upstream = upstreams.get(target);
  if (!upstream) {
    const endpoint = parseEndpoint(target);
    if (endpoint.kind === "invalid" || (endpoint.kind !== "unix" && endpoint.port === undefined)) {
      warn(proxyPass, `proxy_pass ${target} names no upstream and no ADDRESS:PORT; not converted`);
      return;
    }
  }
  for (const listen of listens) claims.push({ server, listen, target, upstream, proxyPass, context: "stream", notes: [], ...(health ? { health } : {}) });
}

function checkConflicts(claims: Claim[]): void {
  // Ranges compared pairwise (claims are few; a range may span 65,535 ports).
  for (let j = 1; j < claims.length; j++) {
    const b = claims[j]!.listen;
    for (let i = 0; i < j; i++) {
      const a = claims[i]!.listen;
      if (a.directive === b.directive || a.protocol !== b.protocol || (a.vip ?? "*") !== (b.vip ?? "*")) continue;
      if (a.end < b.start || b.end < a.start) continue;
      const port = Math.max(a.start, b.start);
      const x = a.directive;
      const y = b.directive;
      throw new ConvertError(
        "conflict",
        `two servers claim ${b.protocol} ${b.vip ?? "(the main file's VIP)"} port ${port}: ${x.file}:${x.line} and ${y.file}:${y.line}`,
        { file: y.file, line: y.line, column: y.column },
      );
    }
  }
}

function groupClaims(claims: Claim[], matches: Map<string, Directive>, options: NginxMapOptions, warn: Warn): ConvertedService[] {
  const groups = new Map<string, Claim[]>();
  for (const claim of claims) {
    const key = `${claim.context}|${claim.target}|${claim.listen.protocol}|${claim.listen.vip ?? ""}`;
    const group = groups.get(key) ?? [];
    group.push(claim);
    groups.set(key, group);
  }
  const targetsSeen = new Map<string, number>();
  for (const group of groups.values()) {
    const t = `${group[0]!.context}|${group[0]!.target}`;
    targetsSeen.set(t, (targetsSeen.get(t) ?? 0) + 1);
  }
  const converted: ConvertedService[] = [];
  const cache = new Map<string, UpstreamResult>();
  for (const group of groups.values()) {
    const first = group[0]!;
    const protocol = first.listen.protocol;
    const vip = first.listen.vip;
    const cacheKey = `${first.context}|${first.target}`;
    let upstream = cache.get(cacheKey);
    if (!upstream) {
      const upstreamOptions = { context: first.context, warn, ...(options.resolved ? { resolved: options.resolved } : {}) };
      upstream = first.upstream ? convertUpstream(first.upstream, upstreamOptions) : convertSingle(first.proxyPass, first.target, upstreamOptions);
      cache.set(cacheKey, upstream);
    }
    const comments = new Map<string, string>(upstream.comments);
    const notes = [...upstream.notes, ...new Set(group.flatMap((c) => c.notes))];
    const backends = upstream.backends.filter((b) => {
      if (vip === undefined) return true;
      const backendFamily = b.address.includes(":") ? 6 : 4;
      const vipFamily = vip.includes(":") ? 6 : 4;
      if (backendFamily === vipFamily) return true;
      warn(first.upstream ?? first.proxyPass, `backend ${b.address} is IPv${backendFamily} but the VIP ${vip} is IPv${vipFamily}: left out of this service`, ["IPVS forwards within one address family."]);
      return false;
    });
    if (vip === undefined) notes.push("No listen address in nginx: the service uses the main file's network.frontend.vip.");
    if (backends.length === 0) notes.push("No backend could be converted (see the warnings): until backends are added, this service accepts connections and has nowhere to send them.");
    const families = new Set(backends.map((b) => (b.address.includes(":") ? 6 : 4)));
    if (families.size > 1) warn(first.upstream ?? first.proxyPass, "the backends mix IPv4 and IPv6; lbctl validate will refuse the ones whose family differs from the VIP's", ["Split them into two services, one per family, each with a VIP of that family."]);

    const ports = new Set<number>();
    const ranges: Array<{ start: number; end: number }> = [];
    for (const claim of group) {
      if (claim.listen.start === claim.listen.end) ports.add(claim.listen.start);
      else if (!ranges.some((r) => r.start === claim.listen.start && r.end === claim.listen.end)) ranges.push({ start: claim.listen.start, end: claim.listen.end });
    }
    const sortedPorts = [...ports].sort((a, b) => a - b);
    const backendPorts = new Set(backends.map((b) => b.port));
    const healthPort = backendPorts.size === 1 ? [...backendPorts][0] : undefined;
    const health = chooseHealth(first, upstream, healthPort, protocol, sortedPorts[0] ?? ranges[0]?.start ?? 0, matches, warn, comments);
    const sorry = sorryServer(upstream, vip, warn, comments);
    comments.set("scheduler", upstream.schedulerComment);

    const baseName = first.upstream ? first.target : `proxy-${first.target}`;
    let name = serviceName(baseName);
    if ((targetsSeen.get(cacheKey) ?? 0) > 1) {
      if (protocol === "udp") name = `${name}-udp`;
      if (vip !== undefined) name = `${name}-${serviceName(vip)}`;
    }
    const sources = [
      ...group.map((c) => `${c.listen.directive.file}:${c.listen.directive.line} (${c.context} server, listen ${c.listen.directive.args.join(" ")})`),
      first.upstream ? `${first.upstream.file}:${first.upstream.line} (upstream ${first.target})` : `${first.proxyPass.file}:${first.proxyPass.line} (proxy_pass ${first.target})`,
    ];
    converted.push({
      service: { name, protocol, ...(vip !== undefined ? { vip } : {}), ports: sortedPorts, port_ranges: ranges, scheduler: upstream.scheduler, backends, health, ...sorry },
      sources,
      notes,
      comments,
    });
  }
  return converted;
}

/** The upstream's one backup server as `sorry_server` with `quorum: 1`, when its family is the VIP's. */
function sorryServer(upstream: UpstreamResult, vip: string | undefined, warn: Warn, comments: Map<string, string>): { quorum?: number; sorry_server?: string } {
  const sorry = upstream.sorry;
  if (!sorry) return {};
  const family = sorry.address.includes(":") ? 6 : 4;
  if (vip !== undefined && family !== (vip.includes(":") ? 6 : 4)) {
    warn(sorry.directive, `backup server ${sorry.address} is IPv${family} but the VIP ${vip} is not: no sorry_server for this service`, ["IPVS forwards within one address family."]);
    return {};
  }
  warn(sorry.directive, `backup server ${endpointText(sorry)} becomes the service's sorry_server (quorum 1)`, [
    "The daemon adds it as a destination only while no primary server is live (failed, drained or down), as nginx used it.",
    "Meanwhile the primary servers get weight 0; a one-shot lbctl apply (no health checks) never adds it.",
  ]);
  comments.set("quorum", "from backup: below 1, no primary server is live");
  comments.set("sorry_server", "from backup");
  return { quorum: 1, sorry_server: endpointText(sorry) };
}

function chooseHealth(claim: Claim, upstream: UpstreamResult, port: number | undefined, protocol: "tcp" | "udp", servicePort: number, matches: Map<string, Directive>, warn: Warn, comments: Map<string, string>): DraftHealth {
  const health = checkHealth(claim, upstream, port, protocol, servicePort, matches, warn, comments);
  const slow = upstream.slowStart;
  if (!slow) return health;
  if (!health.enabled) {
    warn(slow.directive, `slow_start on the servers of ${claim.target} is not carried over: this service has no health check`, [
      "nginx ramps a server up after it recovers from a failure; without checks lbctl sees no recovery.",
      "Enable a health check, then set health.slow_start_seconds (docs/configuration.md).",
    ]);
    return health;
  }
  comments.set("health.slow_start_seconds", "from slow_start (nginx Plus), the largest of the servers'");
  return { ...health, slow_start_seconds: slow.seconds };
}

function checkHealth(claim: Claim, upstream: UpstreamResult, port: number | undefined, protocol: "tcp" | "udp", servicePort: number, matches: Map<string, Directive>, warn: Warn, comments: Map<string, string>): DraftHealth {
  if (claim.health) return activeHealth(claim.health, port, protocol, matches, warn, comments);
  const passive = passiveHealth(upstream.passive, port, protocol);
  for (const [k, v] of passive.comments) comments.set(k, v);
  if (protocol !== "udp") return passive.health;
  const fit = servicePort === 53 ? "udp_dns" : servicePort === 5060 ? "udp_sip" : servicePort === 123 ? "udp_ntp" : "udp_echo (if the backends answer a probe)";
  if (upstream.passive.maxFails === 0) {
    // nginx checked nothing either: no warning, but the file still says which check would fit.
    comments.set("health.enabled", `${comments.get("health.enabled")}; consider ${fit.split(" ")[0]}`);
  } else {
    warn(claim.proxyPass, `UDP service on port ${servicePort} converted without a health check`, [
      "nginx's passive checks have no UDP equivalent that needs no protocol knowledge.",
      `Consider health type ${fit}: see docs/udp-health-checks.md.`,
    ]);
    comments.set("health.enabled", `no check: consider ${fit.split(" ")[0]}`);
  }
  return passive.health;
}

/** nginx Plus `health_check [interval=] [fails=] [passes=] [port=] [udp] [match=]`. */
function activeHealth(d: Directive, port: number | undefined, protocol: "tcp" | "udp", matches: Map<string, Directive>, warn: Warn, comments: Map<string, string>): DraftHealth {
  let interval = 5000;
  let fails = 1;
  let passes = 1;
  let checkPort = port;
  let match: Directive | undefined;
  for (const arg of d.args) {
    const [key, value] = splitParam(arg);
    if (key === "interval" && value) interval = parseTimeMs(value) ?? interval;
    else if (key === "fails" && value) fails = Number(value) || fails;
    else if (key === "passes" && value) passes = Number(value) || passes;
    else if (key === "port" && value) checkPort = Number(value) || checkPort;
    else if (key === "match" && value) {
      match = matches.get(value);
      if (!match) warn(d, `health_check match=${value} names no match block; the check only connects`);
    } else if (key !== "udp" && key !== "jitter" && key !== "mandatory" && key !== "persistent") warn(d, `health_check parameter ${arg} is not carried over`);
  }
  interval = Math.min(Math.max(interval, 100), 3_600_000);
  comments.set("health", "from health_check (nginx Plus)");
  const base: DraftHealth = {
    enabled: true,
    type: "tcp",
    ...(checkPort !== undefined ? { port: checkPort } : {}),
    interval_ms: interval,
    timeout_ms: Math.max(10, Math.min(3000, Math.floor(interval / 2))),
    fail_after: Math.min(Math.max(fails, 1), 100),
    recover_after: Math.min(Math.max(passes, 1), 100),
  };
  const send = match?.block?.find((m) => m.name === "send")?.args[0];
  const expectDirective = match?.block?.find((m) => m.name === "expect");
  const regex = expectDirective?.args[0] === "~";
  const expect = regex ? undefined : expectDirective?.args[0];
  if (protocol === "udp") {
    if (send === undefined) {
      warn(d, "UDP health_check without match send/expect: no lbctl check is equivalent; checks are off", ["Consider udp_echo with a payload the backends answer, or udp_dns/udp_sip/udp_ntp (docs/udp-health-checks.md)."]);
      return { enabled: false };
    }
    if (regex) warn(expectDirective!, "expect ~ REGEX becomes no expectation: udp_echo compares bytes, so any reply passes");
    return { ...base, type: "udp_echo", payload: send, ...(expect !== undefined ? { expect } : {}) };
  }
  if (send !== undefined || expectDirective) warn(match ?? d, "match send/expect is not carried over: lbctl's tcp check only connects");
  return base;
}

