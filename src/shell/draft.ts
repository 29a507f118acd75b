/**
 * Service-mode commands applied to a service as its file holds it (the raw YAML mapping, not the validated model:
 * defaults are not written into files, `${VAR}` references stay). Pure: a command and a draft in, a new draft out.
 * Values are checked for their kind when typed; the whole configuration is validated at `validate` and `commit`.
 */

import { HEALTH_KEYS } from "./grammar.ts";
import { parseBackend, parseRange } from "./parse.ts";

export type RawService = Record<string, unknown>;

export interface ServiceCommand {
  run: string;
  keywords: readonly string[];
  values: readonly string[];
}

/** A service-mode command that cannot apply to this draft (no such backend, range not there). */
export class DraftError extends Error {
  override readonly name = "DraftError";
  readonly code = "E_DRAFT";
}

/** A new service: only its name; the schema's defaults (tcp, wlc, health off) apply until set. */
export function newService(name: string): RawService {
  return { name };
}

export function applyServiceCommand(service: RawService, command: ServiceCommand): RawService {
  const draft = structuredClone(service);
  const [first, second] = command.keywords;
  const [value, extra] = command.values;
  switch (command.run) {
    case "set":
      draft[first!] =
        first === "ports"
          ? portsValue(value!)
          : first === "quorum" || first === "quorum_hysteresis"
            ? Number(value)
            : first === "vip" || first === "sorry_server"
              ? value
              : value!.toLowerCase();
      return draft;
    case "unset":
      delete draft[second!];
      return draft;
    case "add-range": {
      const range = parseRange(value!)!;
      const ranges = listOf(draft.port_ranges);
      if (!ranges.some((r) => sameRange(r, range))) ranges.push(range);
      draft.port_ranges = ranges;
      return draft;
    }
    case "remove-range":
      return removeRange(draft, value!);
    case "persistence":
      draft.persistence = value === undefined ? {} : { timeout_seconds: Number(value) };
      return draft;
    case "backend":
      return setBackend(draft, value!, extra);
    case "no-backend":
      return removeBackend(draft, value!);
    case "health-set": {
      const health = mapOf(draft.health);
      health[second!] = healthValue(second!, value!);
      draft.health = health;
      return draft;
    }
    case "health-unset": {
      const key = command.keywords[2]!;
      const health = mapOf(draft.health);
      if (!(key in health)) throw new DraftError(`health ${key} is not set`);
      delete health[key];
      if (Object.keys(health).length === 0) delete draft.health;
      else draft.health = health;
      return draft;
    }
    case "health-clear":
      if (draft.health === undefined) throw new DraftError("the service has no health block");
      delete draft.health;
      return draft;
    default:
      throw new DraftError(`"${command.run}" is not a service-mode command`);
  }
}

/** `80,443,8000-8010` as the file writes it: numbers, and "A-B" strings for ranges. */
function portsValue(text: string): Array<number | string> {
  return text.split(",").map((part) => {
    const range = parseRange(part)!;
    return range.start === range.end ? range.start : `${range.start}-${range.end}`;
  });
}

function removeRange(draft: RawService, text: string): RawService {
  const range = parseRange(text)!;
  const ranges = listOf(draft.port_ranges);
  const kept = ranges.filter((r) => !sameRange(r, range));
  if (kept.length !== ranges.length) {
    if (kept.length === 0) delete draft.port_ranges;
    else draft.port_ranges = kept;
    return draft;
  }
  // A range may also sit in `ports` as "A-B".
  const ports = listOf(draft.ports);
  const keptPorts = ports.filter((p) => !sameRange(parseRange(String(p)) ?? { start: -1, end: -1 }, range));
  if (keptPorts.length === ports.length) throw new DraftError(`the service has no port range ${range.start}-${range.end}`);
  draft.ports = keptPorts;
  return draft;
}

function sameRange(a: unknown, b: { start: number; end: number }): boolean {
  const r = a as { start?: unknown; end?: unknown };
  return Number(r.start) === b.start && Number(r.end) === b.end;
}

function setBackend(draft: RawService, text: string, weight: string | undefined): RawService {
  const wanted = parseBackend(text)!;
  const backends = listOf(draft.backends).map((b) => mapOf(b));
  const existing = backends.find((b) => sameBackend(b, wanted));
  if (existing) {
    if (weight === undefined) throw new DraftError(`backend ${text} exists; give "weight N" to change it`);
    existing.weight = Number(weight);
  } else {
    const backend: Record<string, unknown> = { address: wanted.address };
    if (wanted.port !== 0) backend.port = wanted.port;
    if (weight !== undefined) backend.weight = Number(weight);
    backends.push(backend);
  }
  draft.backends = backends;
  return draft;
}

function removeBackend(draft: RawService, text: string): RawService {
  const wanted = parseBackend(text)!;
  const backends = listOf(draft.backends);
  const kept = backends.filter((b) => !sameBackend(mapOf(b), wanted));
  if (kept.length === backends.length) throw new DraftError(`the service has no backend ${text}`);
  draft.backends = kept;
  return draft;
}

function sameBackend(backend: Record<string, unknown>, wanted: { address: string; port: number }): boolean {
  return String(backend.address) === wanted.address && Number(backend.port ?? 0) === wanted.port;
}

/** The backends of a draft as the completer offers them: ADDR, ADDR:PORT, [V6]:PORT. */
export function backendNames(service: RawService | undefined): string[] {
  if (!service) return [];
  return listOf(service.backends).map((b) => {
    const { address, port } = mapOf(b);
    const p = Number(port ?? 0);
    if (!p) return String(address);
    return String(address).includes(":") ? `[${String(address)}]:${p}` : `${String(address)}:${p}`;
  });
}

function healthValue(key: string, text: string): unknown {
  const kind = HEALTH_KEYS.find((k) => k.text === key)?.value?.kind;
  if (kind === "integer") return Number(text);
  if (kind === "boolean") return text.toLowerCase() === "true";
  if (kind === "choice") return text.toLowerCase();
  if (key === "expect_rcode" && text.includes(",")) return text.split(",").map((s) => s.trim());
  return text;
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? [...value] : [];
}

function mapOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};
}
