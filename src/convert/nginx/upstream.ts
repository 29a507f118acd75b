/**
 * An nginx `upstream { }` (or a single proxy_pass address) as lbctl backends, scheduler and passive-check health.
 * Pure: host names are looked up beforehand (--resolve) and passed in.
 */

import type { DraftBackend, DraftHealth } from "../draft.ts";
import type { ConvertWarning } from "../issues.ts";
import { parseEndpoint, parseTimeMs, splitParam } from "./address.ts";
import type { Directive } from "./parse.ts";

export type Context = "stream" | "http";

export interface UpstreamResult {
  backends: DraftBackend[];
  /** Comments by backend index and key (`backends[0].weight`). */
  comments: Map<string, string>;
  notes: string[];
  scheduler: string;
  schedulerComment: string;
  /** Passive-check settings of the servers kept, for the health block. */
  passive: { maxFails: number; failTimeoutMs: number; explicit: boolean };
  /** The upstream's one backup server, as the service's sorry server (with quorum 1). */
  sorry?: { address: string; port: number; directive: Directive };
  /** The largest nginx Plus `slow_start` of the servers kept, for health.slow_start_seconds. */
  slowStart?: { seconds: number; directive: Directive };
}

export interface UpstreamOptions {
  context: Context;
  /** Host name → addresses, when --resolve looked them up. */
  resolved?: ReadonlyMap<string, readonly string[]>;
  warn: (directive: Directive, message: string, detail?: string[]) => void;
}

const NGINX_DEFAULT_MAX_FAILS = 1;
const NGINX_DEFAULT_FAIL_TIMEOUT_MS = 10_000;

interface ServerEntry {
  directive: Directive;
  address: string;
  port: number;
  weight: number;
  down: boolean;
  maxFails: number;
  failTimeoutMs: number;
  explicitPassive: boolean;
  resolvedFrom?: string;
  backup: boolean;
  slowStartMs: number;
  /** Left out (backup, host name, unix socket...): it still tells what nginx's passive checks were. */
  leftOut?: boolean;
}

export function convertUpstream(upstream: Directive, options: UpstreamOptions): UpstreamResult {
  const entries: ServerEntry[] = [];
  let balancing: Directive | undefined;
  for (const d of upstream.block ?? []) {
    if (d.name === "server") entries.push(...serverEntries(d, options));
    else if (["least_conn", "ip_hash", "hash", "random", "least_time"].includes(d.name)) balancing = d;
    else if (d.name === "zone" || d.name === "keepalive" || d.name === "keepalive_timeout" || d.name === "keepalive_requests" || d.name === "keepalive_time") continue;
    else options.warn(d, `"${d.name}" in upstream ${upstream.args[0] ?? ""} is not carried over`, ["IPVS balances connections by scheduler and weight only; this setting has no equivalent."]);
  }
  return finish(entries, balancing, options);
}

/** A `proxy_pass ADDR:PORT` without an upstream: one backend with nginx's defaults. */
export function convertSingle(proxyPass: Directive, target: string, options: UpstreamOptions): UpstreamResult {
  // Read as an upstream server line, but every warning names the proxy_pass line itself.
  const synthetic: Directive = { ...proxyPass, name: "server", args: [target] };
  return finish(serverEntries(synthetic, options, proxyPass), undefined, options);
}

function serverEntries(d: Directive, options: UpstreamOptions, at: Directive = d): ServerEntry[] {
  const [target, ...params] = d.args;
  if (target === undefined) {
    options.warn(at, "upstream server without an address is left out");
    return [];
  }
  let weight = 1;
  let down = false;
  let maxFails = NGINX_DEFAULT_MAX_FAILS;
  let failTimeoutMs = NGINX_DEFAULT_FAIL_TIMEOUT_MS;
  let explicitPassive = false;
  let backup = false;
  let slowStartMs = 0;
  for (const param of params) {
    const [key, value] = splitParam(param);
    if (key === "weight" && value !== undefined && /^\d+$/.test(value) && Number(value) >= 1) weight = Math.min(Number(value), 65535);
    else if (key === "down") down = true;
    else if (key === "max_fails" && value !== undefined && /^\d+$/.test(value)) {
      maxFails = Number(value);
      explicitPassive = true;
    } else if (key === "fail_timeout" && value !== undefined && parseTimeMs(value) !== undefined) {
      failTimeoutMs = parseTimeMs(value)!;
      explicitPassive = true;
    } else if (key === "backup") backup = true;
    else if (key === "max_conns") {
      options.warn(at, `max_conns=${value} on ${target} is not carried over`, ["lbctl sets no per-destination connection limit; the backend takes every connection IPVS gives it."]);
    } else if (key === "slow_start" && value !== undefined && parseTimeMs(value) !== undefined) slowStartMs = parseTimeMs(value)!;
    else if (key === "resolve") {
      options.warn(at, `resolve on ${target} is not carried over: lbctl programs fixed addresses`, ["Re-run the conversion (with --resolve) when the name's addresses change."]);
    } else if (key === "service" || key === "route" || key === "drain") {
      options.warn(at, `${key}${value !== undefined ? `=${value}` : ""} on ${target} is not carried over`, ["nginx Plus feature with no IPVS equivalent."]);
    } else options.warn(at, `unknown server parameter "${param}" is ignored`);
  }
  const endpoint = parseEndpoint(target);
  const common = { directive: at, weight, down, maxFails, failTimeoutMs, explicitPassive, backup, slowStartMs };
  const leftOut: ServerEntry[] = [{ ...common, address: "", port: 0, leftOut: true }];
  switch (endpoint.kind) {
    case "unix":
      options.warn(at, `unix socket ${target} is left out`, ["IPVS forwards to IP addresses only."]);
      return leftOut;
    case "invalid":
      options.warn(at, `server ${target} is left out: ${endpoint.reason}`);
      return leftOut;
    case "ip":
    case "host": {
      const port = endpoint.port ?? (options.context === "http" ? 80 : undefined);
      if (port === undefined) {
        options.warn(at, `server ${target} is left out: no port (nginx's stream module requires one)`);
        return leftOut;
      }
      if (endpoint.kind === "ip") return [{ ...common, address: endpoint.address, port }];
      const addresses = options.resolved?.get(endpoint.host);
      if (!addresses || addresses.length === 0) {
        options.warn(at, `host name ${endpoint.host} is left out: IPVS needs addresses`, [
          options.resolved ? `${endpoint.host} did not resolve at conversion time.` : "Re-run with --resolve to look it up now (the file then says so), or write its addresses in the file.",
        ]);
        return leftOut;
      }
      return addresses.map((address) => ({ ...common, address, port, resolvedFrom: endpoint.host }));
    }
  }
}

function finish(all: ServerEntry[], balancing: Directive | undefined, options: UpstreamOptions): UpstreamResult {
  const entries = all.filter((e) => !e.leftOut && !e.backup);
  const sorry = backupAsSorry(all, entries, options);
  const comments = new Map<string, string>();
  const notes: string[] = [];
  const backends: DraftBackend[] = [];
  const seen = new Map<string, Directive>();
  for (const entry of entries) {
    const key = `${entry.address}|${entry.port}`;
    const first = seen.get(key);
    if (first) {
      options.warn(entry.directive, `server ${entry.address}:${entry.port} repeats the one at line ${first.line} and is left out`, ["lbctl holds each (address, port) once per service; nginx counted it twice."]);
      continue;
    }
    seen.set(key, entry.directive);
    const i = backends.length;
    backends.push({ address: entry.address, port: entry.port, weight: entry.down ? 0 : entry.weight });
    if (entry.down) comments.set(`backends[${i}].weight`, "from down");
    if (entry.resolvedFrom) comments.set(`backends[${i}].address`, `resolved from ${entry.resolvedFrom} at conversion time`);
  }
  if (entries.some((e) => e.resolvedFrom)) notes.push("Some backend addresses were resolved from host names at conversion time (--resolve); they do not follow later DNS changes.");

  const weights = new Set(entries.filter((e) => !e.down).map((e) => e.weight));
  const equal = weights.size <= 1;
  const { scheduler, comment } = chooseScheduler(balancing, equal, options);

  const live = entries.filter((e) => !e.down);
  const basis = live.length > 0 ? live : entries.length > 0 ? entries : all;
  const passive = mostCommon(basis.map((e) => `${e.maxFails}|${e.failTimeoutMs}`)) ?? `${NGINX_DEFAULT_MAX_FAILS}|${NGINX_DEFAULT_FAIL_TIMEOUT_MS}`;
  const [maxFails, failTimeoutMs] = passive.split("|").map(Number) as [number, number];
  const differing = basis.find((e) => `${e.maxFails}|${e.failTimeoutMs}` !== passive);
  if (differing) {
    options.warn(differing.directive, `max_fails/fail_timeout differ between servers; the health check uses max_fails=${maxFails} fail_timeout=${failTimeoutMs}ms for all`, ["lbctl has one health block per service."]);
  }
  const slowest = entries.reduce<ServerEntry | undefined>((max, e) => (e.slowStartMs > (max?.slowStartMs ?? 0) ? e : max), undefined);
  const slowStart = slowest ? { seconds: Math.min(Math.ceil(slowest.slowStartMs / 1000), 3600), directive: slowest.directive } : undefined;
  return {
    backends,
    comments,
    notes,
    scheduler,
    schedulerComment: comment,
    passive: { maxFails, failTimeoutMs, explicit: basis.some((e) => e.explicitPassive) },
    ...(sorry ? { sorry } : {}),
    ...(slowStart ? { slowStart } : {}),
  };
}

/**
 * nginx sends to the backup servers only while every primary server is unavailable: lbctl's sorry server with
 * quorum 1 does the same, for one destination. Several backup servers (or one name resolving to several) are left out.
 */
function backupAsSorry(all: ServerEntry[], primaries: ServerEntry[], options: UpstreamOptions): UpstreamResult["sorry"] {
  const backups = all.filter((e) => e.backup);
  const directives = new Set(backups.map((e) => e.directive));
  const usable = backups.filter((e) => !e.leftOut && !e.down);
  const fits = directives.size === 1 && usable.length === 1 && backups.length === 1;
  const only = usable[0];
  if (fits && only && !primaries.some((p) => p.address === only.address && p.port === only.port)) {
    return { address: only.address, port: only.port, directive: only.directive };
  }
  for (const entry of usable) {
    options.warn(entry.directive, `backup server ${endpointText(entry)} is left out`, [
      directives.size > 1 || usable.length > 1
        ? "lbctl has one sorry server per service: an upstream with several backup servers has no equivalent."
        : "It is also a primary server: lbctl's sorry server must differ from every backend.",
      "Add them with weight: 0 and raise the weight by hand (lbctl backend commands) when the others fail.",
    ]);
  }
  for (const entry of backups.filter((e) => !e.leftOut && e.down)) options.warn(entry.directive, `backup server ${endpointText(entry)} is down and left out`);
  return undefined;
}

export function endpointText(entry: { address: string; port: number }): string {
  return entry.address.includes(":") ? `[${entry.address}]:${entry.port}` : `${entry.address}:${entry.port}`;
}

const TWOS_KERNEL = "The difference: twos needs a kernel with ip_vs_twos (Linux 5.11+; Debian 12's kernel lacks it): lbctl doctor says whether this host has it; wlc is the nearest alternative.";

function chooseScheduler(balancing: Directive | undefined, equalWeights: boolean, options: UpstreamOptions): { scheduler: string; comment: string } {
  if (!balancing) return equalWeights ? { scheduler: "rr", comment: "from round robin (nginx's default)" } : { scheduler: "wrr", comment: "from weighted round robin (nginx's default)" };
  const args = balancing.args;
  switch (balancing.name) {
    case "least_conn":
      return equalWeights ? { scheduler: "lc", comment: "from least_conn" } : { scheduler: "wlc", comment: "from least_conn (weights differ)" };
    case "ip_hash":
      options.warn(balancing, "ip_hash becomes sh (source hashing)", [
        "nginx's ip_hash hashes the first three octets of an IPv4 client (a /24 lands on one server); sh hashes the whole address.",
        "Clients of one /24 may now reach different backends.",
      ]);
      return { scheduler: "sh", comment: "from ip_hash (whole address, not /24)" };
    case "hash": {
      const key = args[0] ?? "";
      const consistent = args[1] === "consistent";
      if (key !== "$remote_addr" && key !== "$binary_remote_addr") {
        options.warn(balancing, `hash ${key} becomes ${consistent ? "mh" : "sh"}, which hashes the client address only`, [`IPVS cannot hash on ${key}; connections from one client address stay together instead.`]);
      }
      return consistent ? { scheduler: "mh", comment: `from hash ${key} consistent` } : { scheduler: "sh", comment: `from hash ${key}` };
    }
    case "random":
      if (args[0] === "two") {
        if (args[1] !== undefined && args[1] !== "least_conn") options.warn(balancing, `random two ${args[1]} becomes twos, which compares connection counts`, ["IPVS has no response-time measurement.", TWOS_KERNEL]);
        else options.warn(balancing, "random two becomes twos, the same choice made by the kernel", ["twos picks two servers at random by weight and takes the one with fewer connections per weight, as nginx did.", TWOS_KERNEL]);
        return { scheduler: "twos", comment: "from random two (twos needs Linux 5.11+)" };
      }
      options.warn(balancing, `random becomes ${equalWeights ? "rr" : "wrr"}`, ["IPVS has no random scheduler; (weighted) round robin spreads connections in the same proportions, deterministically."]);
      return equalWeights ? { scheduler: "rr", comment: "from random" } : { scheduler: "wrr", comment: "from random" };
    case "least_time":
      options.warn(balancing, "least_time becomes sed (shortest expected delay)", ["IPVS does not measure response times; sed weighs active connections by weight, the nearest kernel scheduler."]);
      return { scheduler: "sed", comment: `from least_time ${args.join(" ")}`.trim() };
  }
  return { scheduler: "wlc", comment: "" };
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  let best: string | undefined;
  for (const [value, count] of counts) if (best === undefined || count > counts.get(best)!) best = value;
  return best;
}

/** The health block from nginx's passive checks (max_fails within fail_timeout), as the roadmap's example does. */
export function passiveHealth(passive: UpstreamResult["passive"], port: number | undefined, protocol: "tcp" | "udp"): { health: DraftHealth; comments: Map<string, string> } {
  const comments = new Map<string, string>();
  if (passive.maxFails === 0) {
    comments.set("health.enabled", "from max_fails=0 (nginx never marks servers failed)");
    return { health: { enabled: false }, comments };
  }
  if (protocol === "udp") return { health: { enabled: false }, comments };
  const interval = Math.min(Math.max(passive.failTimeoutMs, 100), 3_600_000);
  const timeout = Math.max(10, Math.min(3000, Math.floor(interval / 2)));
  const suffix = passive.explicit ? "" : " (nginx's default)";
  comments.set("health.interval_ms", `from fail_timeout${suffix}`);
  comments.set("health.fail_after", `from max_fails${suffix}`);
  return {
    health: {
      enabled: true,
      type: "tcp",
      ...(port !== undefined ? { port } : {}),
      interval_ms: interval,
      timeout_ms: timeout,
      fail_after: Math.min(Math.max(passive.maxFails, 1), 100),
      recover_after: 2,
    },
    comments,
  };
}
