/**
 * Operator overrides of one backend's weight (`lbctl backend drain|weight|enable`), on top of the config and health.
 * Pure: the rule that joins an override with the health verdict, TTL expiry on an injected wall clock, and the
 * validation of the persisted list (the daemon keeps it in `state_dir`, src/daemon/overrides-store.ts).
 *
 * Precedence, highest first (docs/operations.md, "Runtime overrides"):
 *   1. health says UNHEALTHY → 0, whatever the override, unless the override was made with `force`;
 *   2. an override → its weight (drain = 0), over the configured weight (a configured 0 included);
 *   3. the health rule of backend-weight.ts on the configured weight.
 * So a drain always wins (0 is never a revival), and `weight N` never sends traffic to a backend its checks
 * declared down, unless the operator said `--force`.
 */

export type OverrideKind = "drain" | "weight";

/** Who asked for an override, as the CLI reported it (the control socket is root-only; see docs/daemon.md). */
export interface OverrideActor {
  /** The login user (`/proc/self/loginuid` resolved to a name), or the process's user when no login uid is set. */
  user: string;
  /** The numeric login uid, when set. */
  login_uid?: number;
  /** `SUDO_USER` of the CLI's environment, when it ran under sudo. */
  sudo_user?: string;
}

export interface BackendOverride {
  /** The config service's name. */
  service: string;
  /** The backend key of config.md (`ADDR:PORT`). */
  backend: string;
  kind: OverrideKind;
  /** The weight the override asks for: 0 for a drain. */
  weight: number;
  /** Apply even while health says the backend is down. */
  force: boolean;
  /** Wall-clock ms when it was made. */
  created_at: number;
  /** Wall-clock ms when it lapses; absent: until `lbctl backend enable`. */
  expires_at?: number;
  by: OverrideActor;
}

/** At most this many overrides at once: the persisted file and every status answer stay small. */
export const MAX_OVERRIDES = 10_000;
/** The longest TTL accepted (30 days): longer than that is a config change, not an override. */
export const MAX_TTL_MS = 30 * 24 * 3600 * 1000;
export const MAX_WEIGHT = 65_535;

export function overrideKey(service: string, backend: string): string {
  return `${service}\u0000${backend}`;
}

/**
 * The weight of a backend with an override, from the weight health and config give it (`base`, "kernel" while an
 * adopted backend awaits its first probe) and whether health says it is down.
 */
export function overriddenWeight(base: number | "kernel", down: boolean, override: Pick<BackendOverride, "weight" | "force"> | undefined): number | "kernel" {
  if (!override) return base;
  if (down && !override.force) return 0;
  return override.weight;
}

export function isExpired(override: Pick<BackendOverride, "expires_at">, wallNow: number): boolean {
  return override.expires_at !== undefined && override.expires_at <= wallNow;
}

/** The overrides whose TTL has run out at `wallNow`. */
export function expiredOverrides(overrides: Iterable<BackendOverride>, wallNow: number): BackendOverride[] {
  return [...overrides].filter((o) => isExpired(o, wallNow));
}

export class OverrideFileError extends Error {
  override readonly name = "OverrideFileError";
}

/** The persisted document: `{"version": 1, "overrides": [...]}`. */
export function serializeOverrides(overrides: Iterable<BackendOverride>): string {
  const list = [...overrides].sort((a, b) => a.service.localeCompare(b.service) || a.backend.localeCompare(b.backend));
  return `${JSON.stringify({ version: 1, overrides: list }, null, 2)}\n`;
}

/** Parses and validates the persisted document; `where` names the file in every error. */
export function parseOverrides(text: string, where: string): BackendOverride[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new OverrideFileError(`${where} is not valid JSON: fix or remove it (it holds the operator's backend overrides)`);
  }
  const doc = parsed as { version?: unknown; overrides?: unknown };
  if (typeof parsed !== "object" || parsed === null || doc.version !== 1 || !Array.isArray(doc.overrides)) {
    throw new OverrideFileError(`${where} must hold {"version": 1, "overrides": [...]}: fix or remove it`);
  }
  if (doc.overrides.length > MAX_OVERRIDES) throw new OverrideFileError(`${where} holds ${doc.overrides.length} overrides, more than ${MAX_OVERRIDES}`);
  const seen = new Set<string>();
  return doc.overrides.map((item, index) => {
    const override = validOverride(item);
    if (typeof override === "string") throw new OverrideFileError(`${where}: overrides[${index}]: ${override}`);
    const key = overrideKey(override.service, override.backend);
    if (seen.has(key)) throw new OverrideFileError(`${where}: overrides[${index}]: a second override of ${override.service} ${override.backend}`);
    seen.add(key);
    return override;
  });
}

const isText = (value: unknown, max = 512): value is string => typeof value === "string" && value.length > 0 && value.length <= max;
const isWallMs = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

/** The override, or what is wrong with it. */
function validOverride(item: unknown): BackendOverride | string {
  if (typeof item !== "object" || item === null) return "must be an object";
  const o = item as Record<string, unknown>;
  if (!isText(o.service)) return "service must be a name";
  if (!isText(o.backend, 64)) return "backend must be a backend key (ADDR:PORT)";
  if (o.kind !== "drain" && o.kind !== "weight") return 'kind must be "drain" or "weight"';
  if (typeof o.weight !== "number" || !Number.isInteger(o.weight) || o.weight < 0 || o.weight > MAX_WEIGHT) return `weight must be 0-${MAX_WEIGHT}`;
  if (o.kind === "drain" && o.weight !== 0) return "a drain has weight 0";
  if (typeof o.force !== "boolean") return "force must be true or false";
  if (!isWallMs(o.created_at)) return "created_at must be a time in ms";
  if (o.expires_at !== undefined && !isWallMs(o.expires_at)) return "expires_at must be a time in ms";
  const by = o.by as Record<string, unknown> | undefined;
  if (typeof by !== "object" || by === null || !isText(by.user, 256)) return "by.user must name who made it";
  if (by.login_uid !== undefined && !isWallMs(by.login_uid)) return "by.login_uid must be a uid";
  if (by.sudo_user !== undefined && !isText(by.sudo_user, 256)) return "by.sudo_user must be a name";
  const actor: OverrideActor = { user: by.user };
  if (by.login_uid !== undefined) actor.login_uid = by.login_uid as number;
  if (by.sudo_user !== undefined) actor.sudo_user = by.sudo_user as string;
  const override: BackendOverride = { service: o.service, backend: o.backend, kind: o.kind, weight: o.weight, force: o.force, created_at: o.created_at, by: actor };
  if (o.expires_at !== undefined) override.expires_at = o.expires_at as number;
  return override;
}

/** What an operator asks of one backend through the control API. */
export interface OverrideRequest {
  service: string;
  /** A backend key (`ADDR:PORT`), or a bare address when the service has one backend of that address. */
  backend: string;
  action: "drain" | "enable" | "weight";
  /** For `weight`. */
  weight?: number;
  /** Lapses after this many ms; absent: until `enable`. */
  ttl_ms?: number;
  force?: boolean;
  by: OverrideActor;
}

export type OverrideDecision =
  | { ok: true; backend: string; override: BackendOverride | undefined }
  | { ok: false; status: 400 | 404 | 409; message: string };

/**
 * Checks a request against the service's backend keys and the overrides held, and says what override results
 * (undefined: none, after `enable`). Pure: the caller stores it and applies the weight.
 */
export function decideOverride(
  request: OverrideRequest,
  backendKeys: readonly string[] | undefined,
  held: number,
  wallNow: number,
): OverrideDecision {
  if (!backendKeys) return { ok: false, status: 404, message: `No service named ${request.service} in the running config` };
  const backend = resolveBackend(backendKeys, request.backend);
  if (typeof backend !== "string") return { ok: false, status: 404, message: `${request.service} has ${backend.length ? `several backends at ${request.backend}: name one of ${backend.join(", ")}` : `no backend ${request.backend}`}` };
  if (request.action === "enable") {
    if (request.weight !== undefined || request.ttl_ms !== undefined) return { ok: false, status: 400, message: "enable takes neither a weight nor a TTL" };
    return { ok: true, backend, override: undefined };
  }
  if (request.action === "weight") {
    if (request.weight === undefined || !Number.isInteger(request.weight) || request.weight < 0 || request.weight > MAX_WEIGHT) {
      return { ok: false, status: 400, message: `weight needs --weight N, 0-${MAX_WEIGHT}` };
    }
  } else if (request.weight !== undefined) {
    return { ok: false, status: 400, message: "drain sets weight 0 and takes no weight" };
  }
  if (request.ttl_ms !== undefined && (!Number.isSafeInteger(request.ttl_ms) || request.ttl_ms <= 0 || request.ttl_ms > MAX_TTL_MS)) {
    return { ok: false, status: 400, message: `the TTL must be more than 0 and at most 30 days` };
  }
  if (held >= MAX_OVERRIDES) return { ok: false, status: 409, message: `${MAX_OVERRIDES} overrides are held already: enable some first` };
  const override: BackendOverride = {
    service: request.service,
    backend,
    kind: request.action,
    weight: request.action === "drain" ? 0 : request.weight!,
    force: request.force === true,
    created_at: wallNow,
    by: request.by,
  };
  if (request.ttl_ms !== undefined) override.expires_at = wallNow + request.ttl_ms;
  return { ok: true, backend, override };
}

/** The backend key named by `text`: a key as is, or a bare address (IPv6 with or without brackets) when unique. */
export function resolveBackend(keys: readonly string[], text: string): string | string[] {
  if (keys.includes(text)) return text;
  const address = text.replace(/^\[(.*)\]$/, "$1");
  const matches = keys.filter((key) => key.slice(0, key.lastIndexOf(":")).replace(/^\[(.*)\]$/, "$1") === address);
  return matches.length === 1 ? matches[0]! : matches;
}
