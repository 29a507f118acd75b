/**
 * The shell's command grammar: one tree of words per mode. Each word is a keyword or a value placeholder, with the
 * one-line description that `?` shows; a word that ends a command names it (`run`). The parser, the completer and
 * the help all walk these trees, so a command exists in one place only.
 */

import { CHECK_TYPES, DNS_TYPES } from "../config/schema/health.ts";
import { FORWARD_MODES } from "../config/schema/main.ts";
import { SCHEDULERS } from "../config/schema/service.ts";

export type Mode = "root" | "config" | "service";

/** Where the completer finds the values of a placeholder that are not fixed. */
export type ValueSource = "services" | "backends";

/** How a value is read into the service draft; bad values are refused when typed, before commit. */
export type ValueKind = "name" | "integer" | "boolean" | "choice" | "text" | "ip" | "ports" | "range" | "backend";

export interface ValueSpec {
  kind: ValueKind;
  choices?: readonly string[];
  source?: ValueSource;
  min?: number;
  max?: number;
}

export interface Word {
  /** The keyword itself, or the placeholder shown in help (NAME, ADDR[:PORT]) when `value` is set. */
  text: string;
  help: string;
  value?: ValueSpec;
  next?: readonly Word[];
  /** The command the words so far make, when the line may end here. */
  run?: string;
}

const keyword = (text: string, help: string, rest: Partial<Word> = {}): Word => ({ text, help, ...rest });
const value = (text: string, help: string, spec: ValueSpec, rest: Partial<Word> = {}): Word => ({ text, help, value: spec, ...rest });

const serviceName = (run: string, help = "Name of a service"): Word => value("NAME", help, { kind: "name", source: "services" }, { run });

export const ROOT_WORDS: readonly Word[] = [
  keyword("show", "Show the running state or the configuration", {
    next: [
      keyword("status", "Virtual services as the kernel has them, with health (same as lbctl status)", { run: "show-status" }),
      keyword("services", "The configured services, one a line", { run: "show-services" }),
      keyword("service", "One service as its file defines it", { next: [serviceName("show-service")] }),
      keyword("backends", "Every backend of every service", { run: "show-backends" }),
      keyword("vips", "The VIPs the services use", { run: "show-vips" }),
      keyword("config", "The configuration files and their text", { run: "show-config" }),
      keyword("diff", "What a reload would change in the kernel (asks the daemon)", { run: "show-diff" }),
      keyword("health", "Health of every backend", { run: "show-health" }),
      keyword("stats", "Status with traffic counters", { run: "show-stats" }),
    ],
  }),
  keyword("doctor", "Check the host: modules, sysctls, interfaces, VIPs", { run: "doctor" }),
  keyword("reload", "Ask the daemon to reload the configuration on disk", { run: "reload" }),
  keyword("configure", "Take the configuration lock and enter config mode", { run: "configure" }),
  keyword("lock", "The configuration lock", {
    next: [
      keyword("status", "Who holds the configuration lock", { run: "lock-status" }),
      keyword("break", "Remove another session's lock", { next: [keyword("--force", "Confirm: the holder's pending changes can no longer be committed", { run: "lock-break" })] }),
    ],
  }),
  keyword("help", "List the commands of this mode", { run: "help" }),
  keyword("exit", "Leave the shell", { run: "exit" }),
];

export const CONFIG_WORDS: readonly Word[] = [
  keyword("service", "Edit a service (new or existing): enters service mode", { next: [serviceName("service", "Name of the service (letters, digits, - _ .)")] }),
  keyword("delete", "Delete a service", { next: [serviceName("delete")] }),
  keyword("show", "The pending changes as a diff", { run: "show-pending" }),
  keyword("validate", "Validate the whole configuration with the pending changes", { run: "validate" }),
  keyword("commit", "Validate, write the changed files, reload the daemon", { run: "commit" }),
  keyword("abort", "Drop every pending change and stay in config mode", { run: "abort" }),
  keyword("help", "List the commands of this mode", { run: "help" }),
  keyword("exit", "Drop the pending changes, release the lock, back to root mode", { run: "exit" }),
];

const PORT_RANGE: ValueSpec = { kind: "range" };

/** Keys of a service's `health:` block, each with its value and the check types it applies to (configuration.md). */
export const HEALTH_KEYS: readonly Word[] = [
  value("enabled", "Run checks (true|false)", { kind: "boolean", choices: ["true", "false"] }),
  value("type", "Check type", { kind: "choice", choices: CHECK_TYPES }),
  value("port", "Probe port; 0 = the backend's own port", { kind: "integer", min: 0, max: 65535 }),
  value("interval_ms", "Time between checks of one backend (ms)", { kind: "integer", min: 100, max: 3600000 }),
  value("timeout_ms", "Time a check may take (ms), less than interval_ms", { kind: "integer", min: 10, max: 60000 }),
  value("fail_after", "Failed checks in a row before unhealthy", { kind: "integer", min: 1, max: 100 }),
  value("recover_after", "Passed checks in a row before healthy", { kind: "integer", min: 1, max: 100 }),
  value("payload", "udp_echo: bytes to send", { kind: "text" }),
  value("expect", "udp_echo: expected reply", { kind: "text" }),
  value("payload_hex", "udp_echo: binary payload as hex", { kind: "text" }),
  value("expect_hex", "udp_echo: binary expected reply as hex", { kind: "text" }),
  value("nonce", "udp_echo: append a unique nonce (true|false)", { kind: "boolean", choices: ["true", "false"] }),
  value("dns_query", "udp_dns: name to query", { kind: "text" }),
  value("dns_type", "udp_dns: record type", { kind: "choice", choices: DNS_TYPES }),
  value("expect_rcode", "udp_dns: accepted response codes, comma-separated", { kind: "text" }),
  value("sip_uri", "udp_sip: URI of the OPTIONS request", { kind: "text" }),
  value("sip_expect_status", "udp_sip: accepted status codes (200, 200-299)", { kind: "text" }),
  value("ntp_max_stratum", "udp_ntp: highest accepted stratum", { kind: "integer", min: 1, max: 15 }),
  value("http_path", "http: path to request", { kind: "text" }),
  value("http_host", "http: Host header", { kind: "text" }),
  value("http_status", "http: accepted status codes (200-399)", { kind: "text" }),
  value("http_weight_header", "http: response header whose value becomes the backend's weight", { kind: "text" }),
  value("slow_start_seconds", "Ramp a returning backend's weight up over this many seconds (0 = off)", { kind: "integer", min: 0, max: 3600 }),
];

/** `health KEY VALUE`: the key is a keyword, its value follows. */
const healthSet: Word[] = HEALTH_KEYS.map((key) => keyword(key.text, key.help, { next: [value("VALUE", key.help, key.value!, { run: "health-set" })] }));
const healthUnset: Word[] = HEALTH_KEYS.map((key) => keyword(key.text, `Remove ${key.text} (back to its default)`, { run: "health-unset" }));

const backendAddress = (run: string, help: string): Word =>
  value("ADDR[:PORT]", help, { kind: "backend", source: "backends" }, {
    run,
    next: run === "backend" ? [keyword("weight", "Weight (0 drains)", { next: [value("N", "Weight 0-65535", { kind: "integer", min: 0, max: 65535 }, { run })] })] : [],
  });

export const SERVICE_WORDS: readonly Word[] = [
  keyword("protocol", "Transport protocol", { next: [value("PROTO", "tcp or udp", { kind: "choice", choices: ["tcp", "udp"] }, { run: "set" })] }),
  keyword("ports", "Replace the ports: 80,443,8000-8010", { next: [value("PORTS", "Ports and A-B ranges, comma-separated", { kind: "ports" }, { run: "set" })] }),
  keyword("port-range", "Add a port range", { next: [value("A-B", "Inclusive range", PORT_RANGE, { run: "add-range" })] }),
  keyword("scheduler", "IPVS scheduler", { next: [value("SCHED", "Scheduler", { kind: "choice", choices: SCHEDULERS }, { run: "set" })] }),
  keyword("mode", "Forwarding method of this service", { next: [value("MODE", "nat, dr or tun", { kind: "choice", choices: FORWARD_MODES }, { run: "set" })] }),
  keyword("vip", "Virtual IP of this service (default: network.frontend.vip)", { next: [value("ADDR", "IPv4 or IPv6 address", { kind: "ip" }, { run: "set" })] }),
  keyword("persistence", "Client persistence, in seconds (default 300)", {
    run: "persistence",
    next: [value("SECONDS", "Persistence timeout 1-31536000", { kind: "integer", min: 1, max: 31536000 }, { run: "persistence" })],
  }),
  keyword("backend", "Add a backend or change its weight", { next: [backendAddress("backend", "Backend address, optional port (0 = service port)")] }),
  keyword("health", "Set a health-check key", { next: healthSet }),
  keyword("quorum", "Minimum sum of live backends' weights", { next: [value("N", "1-100000000", { kind: "integer", min: 1, max: 100_000_000 }, { run: "set" })] }),
  keyword("quorum_hysteresis", "Quorum lost below quorum - N, regained at quorum + N", { next: [value("N", "0-100000000", { kind: "integer", min: 0, max: 100_000_000 }, { run: "set" })] }),
  keyword("sorry_server", "Destination used while below quorum", { next: [value("ADDR[:PORT]", "Address, optional port", { kind: "text" }, { run: "set" })] }),
  keyword("no", "Remove a setting", {
    next: [
      keyword("protocol", "Back to tcp", { run: "unset" }),
      keyword("ports", "Remove every port", { run: "unset" }),
      keyword("port-range", "Remove a port range", { next: [value("A-B", "A range of the service", PORT_RANGE, { run: "remove-range" })] }),
      keyword("scheduler", "Back to the default (wlc)", { run: "unset" }),
      keyword("mode", "Back to the global mode", { run: "unset" }),
      keyword("vip", "Back to network.frontend.vip", { run: "unset" }),
      keyword("persistence", "No client persistence", { run: "unset" }),
      keyword("quorum", "No quorum rule", { run: "unset" }),
      keyword("quorum_hysteresis", "Back to 0", { run: "unset" }),
      keyword("sorry_server", "No sorry server", { run: "unset" }),
      keyword("backend", "Remove a backend", { next: [backendAddress("no-backend", "A backend of the service")] }),
      keyword("health", "Remove the whole health block, or one key", { run: "health-clear", next: healthUnset }),
    ],
  }),
  keyword("show", "This service as it will be written", { run: "show-service" }),
  keyword("help", "List the commands of this mode", { run: "help" }),
  keyword("exit", "Keep this service's changes pending, back to config mode", { run: "exit" }),
];

export const MODE_WORDS: Readonly<Record<Mode, readonly Word[]>> = { root: ROOT_WORDS, config: CONFIG_WORDS, service: SERVICE_WORDS };

export const PROMPTS: Readonly<Record<Mode, string>> = { root: "lbctl> ", config: "lbctl(config)> ", service: "lbctl(config-svc)> " };
