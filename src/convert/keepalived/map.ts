/**
 * keepalived's LVS configuration as lbctl services (issue 14 §3): each `virtual_server IP PORT` (or each VIP of a
 * `virtual_server group`) becomes a service; lb_algo, lb_kind, protocol, persistence, real servers and checkers
 * map to their lbctl keys, and what has no equivalent is a located warning. Pure: no I/O.
 */

import { parseIp } from "../../config/ip.ts";
import type { ConvertedService, DraftBackend, DraftHealth, DraftService } from "../draft.ts";
import { serviceName } from "../draft.ts";
import { ConvertError, inSourceOrder, type ConvertWarning } from "../issues.ts";
import type { KDirective, KeepalivedConfig } from "./parse.ts";

export interface KeepalivedMapOptions {
  resolved?: ReadonlyMap<string, readonly string[]>;
}

export interface Conversion {
  services: ConvertedService[];
  warnings: ConvertWarning[];
}

type Warn = (d: KDirective, message: string, detail?: string[]) => void;

const SCHEDULERS = new Set(["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"]);
const CHECKERS = new Set(["TCP_CHECK", "HTTP_GET", "SSL_GET", "DNS_CHECK", "MISC_CHECK", "UDP_CHECK", "SMTP_CHECK", "BFD_CHECK", "PING_CHECK", "FILE_CHECK"]);
/** Keys of a virtual_server that change nothing IPVS-visible, or are read elsewhere. */
const QUIET = new Set(["inhibit_on_failure", "delay_loop", "lb_algo", "lvs_sched", "lb_kind", "lvs_method", "protocol", "persistence_timeout", "real_server", "virtualhost", "connect_timeout", "retry", "nb_get_retry", "delay_before_retry", "warmup", "ha_suspend", "smtp_alert", "sorry_server_lvs_method"]);

/** Read by convertQuorum. */
const QUORUM_KEYS = new Set(["sorry_server", "quorum", "hysteresis"]);

interface Target {
  vip: string;
  ports: number[];
  directive: KDirective;
}

export function mapKeepalived(config: KeepalivedConfig, _options: KeepalivedMapOptions = {}): Conversion {
  const warnings: ConvertWarning[] = [];
  const warn: Warn = (d, message, detail) => warnings.push({ file: d.file, line: d.line, directive: d.name, message, ...(detail ? { detail } : {}) });
  const groups = new Map<string, KDirective>();
  for (const d of config.directives) if (d.name === "virtual_server_group" && d.args[0] && d.block) groups.set(d.args[0], d);
  const services: ConvertedService[] = [];
  const owners = new Map<string, KDirective>();
  for (const d of config.directives) {
    if (d.name === "vrrp_instance" || d.name === "vrrp_sync_group") {
      warn(d, `${d.name} ${d.args[0] ?? ""} is not a service and is not converted`.replace("  ", " "), [
        "VIP failover is not part of a service file: run `lbctl setup frr` (VRRP through FRR, docs/ha.md), or keep keepalived for VRRP only and let lbctl program IPVS.",
      ]);
      continue;
    }
    if (d.name !== "virtual_server" || !d.block) continue;
    const targets = virtualTargets(d, groups, warn);
    if (targets.length === 0) continue;
    for (const target of targets) {
      const converted = convertVirtualServer(d, target, targets.length > 1, warn);
      if (!converted) continue;
      for (const port of converted.service.ports) {
        const key = `${converted.service.protocol}|${target.vip}|${port}`;
        const first = owners.get(key);
        if (first) {
          throw new ConvertError("conflict", `two virtual servers claim ${converted.service.protocol} ${target.vip} port ${port}: ${first.file}:${first.line} and ${target.directive.file}:${target.directive.line}`, target.directive);
        }
        owners.set(key, target.directive);
      }
      services.push(converted);
    }
  }
  return { services, warnings: inSourceOrder(dedupe(warnings), config.files) };
}

/** A block shared by several services (a group's checkers) is reported once. */
export function dedupe<W extends { file: string; line: number; directive: string; message: string }>(warnings: W[]): W[] {
  const seen = new Set<string>();
  return warnings.filter((w) => {
    const key = `${w.file}|${w.line}|${w.directive}|${w.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function virtualTargets(d: KDirective, groups: Map<string, KDirective>, warn: Warn): Target[] {
  const [first, second] = d.args;
  if (first === "fwmark") {
    warn(d, `virtual_server fwmark ${second ?? ""} is not converted`, ["lbctl services are (protocol, address, port); firewall-mark services have no equivalent.", "Write one service per address and port the mark selected."]);
    return [];
  }
  if (first === "group") {
    const group = second ? groups.get(second) : undefined;
    if (!group) {
      warn(d, `virtual_server group ${second ?? ""} names no virtual_server_group; not converted`);
      return [];
    }
    const byVip = new Map<string, Target>();
    for (const entry of group.block ?? []) {
      if (entry.name === "fwmark") {
        warn(entry, `fwmark ${entry.args[0] ?? ""} in virtual_server_group ${second} is not converted`, ["lbctl services are (protocol, address, port)."]);
        continue;
      }
      const port = Number(entry.args[0]);
      const vips = expandRange(entry.name);
      if (!vips || !Number.isInteger(port) || port < 1 || port > 65535) {
        warn(entry, `group entry "${[entry.name, ...entry.args].join(" ")}" is not an address (or range) and a port 1-65535; left out`);
        continue;
      }
      for (const vip of vips) {
        const target = byVip.get(vip) ?? { vip, ports: [], directive: entry };
        if (!target.ports.includes(port)) target.ports.push(port);
        byVip.set(vip, target);
      }
    }
    return [...byVip.values()];
  }
  const ip = first ? parseIp(first) : undefined;
  const port = Number(second);
  if (!ip) {
    warn(d, `virtual_server ${d.args.join(" ")}: "${first ?? ""}" is not an IP address; not converted`);
    return [];
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    warn(d, `virtual_server ${d.args.join(" ")}: port ${second ?? "(none)"} is not 1-65535; not converted`, ["Port 0 (all ports, with persistence) has no lbctl equivalent: list the ports instead."]);
    return [];
  }
  return [{ vip: ip.text, ports: [port], directive: d }];
}

/** `10.0.0.1`, or keepalived's last-part range `10.0.0.1-10` (also for IPv6's last group). */
function expandRange(text: string): string[] | undefined {
  const match = /^(.*[.:])([0-9a-fA-F]+)-([0-9a-fA-F]+)$/.exec(text);
  if (!match) {
    const ip = parseIp(text);
    return ip ? [ip.text] : undefined;
  }
  const v6 = match[1]!.endsWith(":");
  const base = v6 ? 16 : 10;
  const start = parseInt(match[2]!, base);
  const end = parseInt(match[3]!, base);
  if (!(end >= start) || end - start > 1024) return undefined;
  const out: string[] = [];
  for (let n = start; n <= end; n++) {
    const ip = parseIp(`${match[1]}${n.toString(base)}`);
    if (!ip) return undefined;
    out.push(ip.text);
  }
  return out;
}

function arg(d: KDirective | undefined): string | undefined {
  return d?.args[0];
}

function find(block: KDirective[] | undefined, ...names: string[]): KDirective | undefined {
  return block?.find((d) => names.includes(d.name));
}

function convertVirtualServer(d: KDirective, target: Target, grouped: boolean, warn: Warn): ConvertedService | undefined {
  const block = d.block ?? [];
  const comments = new Map<string, string>();
  const notes: string[] = [];
  // keepalived programs a virtual server without "protocol" as UDP (the kernel's default for protocol 0), saying so.
  const protocolDirective = find(block, "protocol");
  const protocolText = (arg(protocolDirective) ?? "UDP").toUpperCase();
  if (!protocolDirective) {
    warn(d, "no protocol: keepalived programs this virtual server as UDP, and so does the conversion", ["Add `protocol TCP` to the keepalived config (and convert again) if TCP was meant."]);
  }
  if (protocolText !== "TCP" && protocolText !== "UDP") {
    warn(find(block, "protocol")!, `protocol ${protocolText} is not converted: lbctl serves tcp and udp`);
    return undefined;
  }
  const protocol = protocolText === "UDP" ? "udp" : "tcp";
  const algoDirective = find(block, "lb_algo", "lvs_sched");
  let scheduler = (arg(algoDirective) ?? "wlc").toLowerCase();
  if (!SCHEDULERS.has(scheduler)) {
    warn(algoDirective!, `lb_algo ${scheduler} is unknown; wlc is used`);
    scheduler = "wlc";
  }
  const kindDirective = find(block, "lb_kind", "lvs_method");
  const kind = (arg(kindDirective) ?? "NAT").toUpperCase();
  const mode = kind === "DR" ? "dr" : kind === "TUN" ? "tun" : "nat";
  if (kind !== "NAT" && kind !== "DR" && kind !== "TUN") warn(kindDirective!, `lb_kind ${kind} is unknown; nat is used`);
  const persistenceDirective = find(block, "persistence_timeout");
  // keepalived: no value means 360 s; 0 means no persistence.
  const persistenceSeconds = persistenceDirective ? Number(arg(persistenceDirective) ?? 360) : 0;
  const persistence = persistenceSeconds > 0 ? { timeout_seconds: Math.min(Math.floor(persistenceSeconds), 31536000) } : undefined;

  for (const other of block) {
    if (QUIET.has(other.name)) continue;
    if (QUORUM_KEYS.has(other.name)) continue;
    if (other.name === "quorum_up" || other.name === "quorum_down") warn(other, `${other.name} is not converted`, ["lbctl runs no scripts: it records quorum changes as the audit events quorum_lost/quorum_regained and the lbctl_service_quorum metric."]);
    else if (other.name === "persistence_granularity") warn(other, `persistence_granularity ${arg(other) ?? ""} is not converted`, ["lbctl persistence is per client address (netmask 255.255.255.255)."]);
    else if (other.name === "alpha" || other.name === "omega") warn(other, `${other.name} is not converted`, ["lbctl starts every backend with its configured weight and sets it to 0 while its health check fails."]);
    else if (other.name === "ops") warn(other, "ops (one-packet scheduling) is not converted", ["lbctl programs IPVS services without the OPS flag: UDP datagrams of one client are scheduled as a connection."]);
    else warn(other, `"${other.name}" is not converted`, ["It has no lbctl equivalent."]);
  }

  const servers = block.filter((b) => b.name === "real_server");
  const backends: DraftBackend[] = [];
  const checkers: Array<{ checker: KDirective; server: KDirective }> = [];
  const vipFamily = target.vip.includes(":") ? 6 : 4;
  for (const server of servers) {
    const ip = parseIp(server.args[0] ?? "");
    const port = Number(server.args[1] ?? target.ports[0]);
    if (!ip) {
      warn(server, `real_server ${server.args.join(" ")}: not an IP address; left out`);
      continue;
    }
    if ((ip.family === 6 ? 6 : 4) !== vipFamily) {
      warn(server, `real_server ${ip.text} is not of the VIP's address family; left out`, ["IPVS forwards within one address family."]);
      continue;
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      warn(server, `real_server ${server.args.join(" ")}: port is not 0-65535; left out`);
      continue;
    }
    let backendPort = port;
    if (mode !== "nat" && target.ports.some((p) => p !== port) && port !== 0) {
      warn(server, `real_server port ${port} differs from the service port with lb_kind ${kind}: the kernel forwards to the service port`, ["With DR and TUN IPVS cannot change the port; lbctl requires the backend port to match."]);
      backendPort = target.ports[0]!;
    }
    if (backends.some((b) => b.address === ip.text && b.port === backendPort)) {
      warn(server, `real_server ${ip.text} ${backendPort} is listed twice; the repeat is left out`);
      continue;
    }
    const weightText = arg(find(server.block, "weight"));
    const weight = weightText === undefined ? 1 : Math.min(Math.max(Number(weightText) || 0, 0), 65535);
    backends.push({ address: ip.text, port: backendPort, weight });
    for (const inner of server.block ?? []) {
      if (CHECKERS.has(inner.name)) checkers.push({ checker: inner, server });
      else if (inner.name === "notify_up" || inner.name === "notify_down") warn(inner, `${inner.name} is not converted`, ["lbctl reports health changes in its log, metrics and audit events instead of running scripts."]);
      else if (inner.name !== "weight" && inner.name !== "inhibit_on_failure") warn(inner, `"${inner.name}" in real_server is not converted`);
    }
    if (!find(server.block, "inhibit_on_failure") && !find(block, "inhibit_on_failure") && (server.block ?? []).some((b) => CHECKERS.has(b.name))) {
      comments.set(`backends[${backends.length - 1}].weight`, "keepalived removed it on failure; lbctl sets weight 0");
    }
  }
  if (find(block, "inhibit_on_failure") || servers.some((server) => find(server.block, "inhibit_on_failure"))) {
    notes.push("inhibit_on_failure: mapped: lbctl's default behaviour (a failed backend keeps its place in IPVS with weight 0; lbctl never removes it).");
  }
  const quorum = convertQuorum(block, target, mode, backends, comments, warn);
  const health = convertHealth(d, checkers, protocol, comments, warn);
  const ports = [...target.ports].sort((a, b) => a - b);
  const base = grouped || d.args[0] === "group" ? `${d.args[1]}-${target.vip}` : `vs-${target.vip}-${ports.join("-")}${protocol === "udp" ? "-udp" : ""}`;
  comments.set("scheduler", `from lb_algo ${algoDirective ? arg(algoDirective) : "(keepalived's default wlc)"}`);
  if (kindDirective) comments.set("mode", `from lb_kind ${kind}`);
  return {
    service: { name: serviceName(base), protocol, vip: target.vip, ports, port_ranges: [], scheduler, mode, ...(persistence ? { persistence } : {}), backends, health, ...quorum },
    sources: [`${d.file}:${d.line} (virtual_server ${d.args.join(" ")})`, ...(target.directive !== d ? [`${target.directive.file}:${target.directive.line} (virtual_server_group entry)`] : [])],
    notes,
    comments,
  };
}

/** keepalived's `sorry_server IP [PORT]`, `quorum N` and `hysteresis N`: the same semantics as lbctl's keys (docs/configuration.md 4.6b). */
function convertQuorum(block: KDirective[], target: Target, mode: "nat" | "dr" | "tun", backends: DraftBackend[], comments: Map<string, string>, warn: Warn): Pick<DraftService, "quorum" | "quorum_hysteresis" | "sorry_server"> {
  const out: Pick<DraftService, "quorum" | "quorum_hysteresis" | "sorry_server"> = {};
  const sorry = find(block, "sorry_server");
  if (sorry) {
    const ip = parseIp(sorry.args[0] ?? "");
    const portText = sorry.args[1];
    const port = portText === undefined ? undefined : Number(portText);
    const vipFamily = target.vip.includes(":") ? 6 : 4;
    if (!ip) warn(sorry, `sorry_server ${sorry.args.join(" ")}: not an IP address; not converted`);
    else if ((ip.family === 6 ? 6 : 4) !== vipFamily) warn(sorry, `sorry_server ${ip.text} is not of the VIP's address family; not converted`, ["IPVS forwards within one address family."]);
    else if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) warn(sorry, `sorry_server ${sorry.args.join(" ")}: port is not 0-65535; not converted`);
    else if (backends.some((b) => b.address === ip.text && (port === undefined || port === 0 || b.port === port))) {
      warn(sorry, `sorry_server ${sorry.args.join(" ")} is also a real server; not converted`, ["lbctl's sorry server must differ from every backend's destination."]);
    } else {
      let usedPort = port === 0 ? undefined : port;
      if (usedPort !== undefined && mode !== "nat" && target.ports.some((p) => p !== usedPort)) {
        warn(sorry, `sorry_server port ${usedPort} differs from the service port with lb_kind ${mode.toUpperCase()}: the sorry server takes the service's port`, ["With DR and TUN IPVS cannot change the port."]);
        usedPort = undefined;
      }
      const host = ip.family === 6 && usedPort !== undefined ? `[${ip.text}]` : ip.text;
      out.sorry_server = usedPort === undefined ? host : `${host}:${usedPort}`;
      comments.set("sorry_server", "from sorry_server: added while below quorum");
    }
  }
  const quorumDirective = find(block, "quorum");
  const hysteresisDirective = find(block, "hysteresis");
  let quorum: number | undefined;
  if (quorumDirective) {
    const value = Number(arg(quorumDirective));
    if (Number.isInteger(value) && value >= 1 && value <= 100_000_000) {
      quorum = value;
      comments.set("quorum", "from quorum: minimum sum of the live backends' weights");
    } else warn(quorumDirective, `quorum ${arg(quorumDirective) ?? ""} is not 1-100000000; not converted (lbctl's default is 1 with a sorry server)`);
  }
  if (hysteresisDirective) {
    const value = Number(arg(hysteresisDirective));
    const base = quorum ?? 1;
    if (!Number.isInteger(value) || value < 0) warn(hysteresisDirective, `hysteresis ${arg(hysteresisDirective) ?? ""} is not a whole number; not converted`);
    else if (value > 0) {
      const kept = Math.min(value, base - 1);
      if (kept < value) warn(hysteresisDirective, `hysteresis ${value} is not less than the quorum ${base}; ${kept === 0 ? "left out" : `${kept} is used`}`, ["lbctl requires quorum_hysteresis < quorum: the quorum could never be lost otherwise."]);
      if (kept > 0) {
        quorum = base;
        out.quorum_hysteresis = kept;
        comments.set("quorum_hysteresis", "from hysteresis");
        if (!quorumDirective) comments.set("quorum", "keepalived's default quorum 1");
      }
    }
  }
  if (quorum !== undefined) out.quorum = quorum;
  return out;
}

function seconds(d: KDirective | undefined, fallback: number): number {
  const value = Number(arg(d));
  return d && Number.isFinite(value) && value > 0 ? value : fallback;
}

function convertHealth(vs: KDirective, checkers: Array<{ checker: KDirective; server: KDirective }>, protocol: "tcp" | "udp", comments: Map<string, string>, warn: Warn): DraftHealth {
  if (checkers.length === 0) return { enabled: false };
  const kinds = new Set(checkers.map((c) => c.checker.name));
  const chosen = checkers[0]!.checker;
  if (kinds.size > 1) warn(chosen, `real servers use different checkers (${[...kinds].join(", ")}); ${chosen.name} is used for all`, ["lbctl has one health block per service."]);
  if (checkers.filter((c) => c.server === checkers[0]!.server).length > 1) warn(chosen, "a real server has several checkers; only the first is converted");
  const block = chosen.block ?? [];
  const delay = seconds(find(block, "delay_loop"), seconds(find(vs.block, "delay_loop"), 60));
  const connectTimeout = seconds(find(block, "connect_timeout"), seconds(find(vs.block, "connect_timeout"), 5));
  const retryDirective = find(block, "retry", "nb_get_retry") ?? find(vs.block, "retry", "nb_get_retry");
  const retry = retryDirective ? Math.max(Number(arg(retryDirective)) || 0, 0) : 1;
  const interval = Math.min(Math.max(Math.round(delay * 1000), 100), 3_600_000);
  const timeout = Math.min(Math.max(Math.round(connectTimeout * 1000), 10), 60_000, interval - 1);
  const portDirective = find(block, "connect_port");
  const port = portDirective ? Number(arg(portDirective)) : undefined;
  const base: DraftHealth = {
    enabled: true,
    type: protocol === "udp" ? "udp_echo" : "tcp",
    ...(port !== undefined && port >= 1 && port <= 65535 ? { port } : {}),
    interval_ms: interval,
    timeout_ms: timeout,
    fail_after: Math.min(retry + 1, 100),
    recover_after: 1,
  };
  const explicitDelay = find(block, "delay_loop") ?? find(vs.block, "delay_loop");
  const explicitTimeout = find(block, "connect_timeout") ?? find(vs.block, "connect_timeout");
  comments.set("health.interval_ms", explicitDelay ? "from delay_loop" : "keepalived's default delay_loop 60");
  comments.set("health.timeout_ms", explicitTimeout ? "from connect_timeout" : "keepalived's default connect_timeout 5");
  comments.set("health.fail_after", `from retry ${retry}${retryDirective ? "" : " (keepalived's default)"}: the first failure and the retries`);
  const off = (message: string, detail: string[]): DraftHealth => {
    warn(chosen, message, detail);
    comments.set("health.enabled", `from ${chosen.name}: no equivalent check`);
    return { enabled: false };
  };
  switch (chosen.name) {
    case "TCP_CHECK":
      if (protocol === "udp") return off("TCP_CHECK on a UDP virtual server is not converted", ["lbctl runs tcp checks on TCP services only; consider a udp_* check (docs/udp-health-checks.md)."]);
      comments.set("health.type", "from TCP_CHECK");
      return base;
    case "HTTP_GET":
    case "SSL_GET": {
      if (protocol === "udp") return off(`${chosen.name} on a UDP virtual server is not converted`, []);
      const url = find(block, "url");
      const path = arg(find(url?.block, "path"));
      const status = arg(find(url?.block, "status_code"));
      if (find(url?.block, "digest")) warn(find(url?.block, "digest")!, "digest is not converted: lbctl's http check compares the status code only");
      if (block.filter((b) => b.name === "url").length > 1) warn(chosen, "several url blocks: only the first is checked");
      if (chosen.name === "SSL_GET") {
        warn(chosen, "SSL_GET becomes a tcp check", ["lbctl's http check speaks plain HTTP; a TLS handshake check is not available, so only the connection is checked."]);
        comments.set("health.type", "from SSL_GET (connect only)");
        return base;
      }
      const host = arg(find(block, "virtualhost")) ?? arg(find(vs.block, "virtualhost"));
      comments.set("health.type", "from HTTP_GET");
      return {
        ...base,
        type: "http",
        ...(path && path.startsWith("/") ? { http_path: path } : {}),
        ...(status && /^\d{3}(-\d{3})?$/.test(status) ? { http_status: status } : {}),
        ...(host ? { http_host: host } : {}),
      } as DraftHealth;
    }
    case "DNS_CHECK": {
      if (protocol !== "udp") return off("DNS_CHECK on a TCP virtual server is not converted", ["lbctl's udp_dns check runs on UDP services; a tcp check would only test the connection."]);
      const type = arg(find(block, "type"))?.toLowerCase();
      const name = arg(find(block, "name"));
      comments.set("health.type", "from DNS_CHECK");
      return { ...base, type: "udp_dns", ...(name ? { dns_query: name } : {}), ...(type ? { dns_type: type } : {}) };
    }
    case "UDP_CHECK": {
      if (protocol !== "udp") return off("UDP_CHECK on a TCP virtual server is not converted", []);
      const payload = arg(find(block, "payload"));
      const reply = arg(find(block, "require_reply"));
      if (!payload) return off("UDP_CHECK without payload is not converted", ["lbctl's udp_echo check needs a payload the backends answer; see docs/udp-health-checks.md."]);
      comments.set("health.type", "from UDP_CHECK");
      return { ...base, type: "udp_echo", payload_hex: payload, ...(reply ? { expect_hex: reply } : {}) } as DraftHealth;
    }
    case "MISC_CHECK":
      return off("MISC_CHECK (a script) is not converted", ["lbctl runs its own checks only: tcp, http, udp_echo, udp_dns, udp_sip, udp_ntp (docs/health-checks.md)."]);
    case "SMTP_CHECK":
      if (protocol === "udp") return off("SMTP_CHECK on a UDP virtual server is not converted", []);
      warn(chosen, "SMTP_CHECK becomes a tcp check", ["lbctl does not speak SMTP; only the connection is checked."]);
      comments.set("health.type", "from SMTP_CHECK (connect only)");
      return base;
    default:
      return off(`${chosen.name} is not converted`, ["lbctl has no equivalent check."]);
  }
}
