/**
 * The configuration lock's rules (docs/shell.md): one session at a time may change the configuration. The lock file
 * records who holds it; a lock whose process is gone from this host is stale and may be taken over; a lock held on
 * another host, or by a live process, is only removed by `lock break --force`. Pure: the caller reads the file and
 * says whether a pid is alive.
 */

export interface LockInfo {
  user: string;
  host: string;
  pid: number;
  /** ISO 8601 time the lock was taken. */
  since: string;
  /** What holds it: `shell` or `edit`. */
  tool?: string;
}

export type LockVerdict =
  | { state: "free" }
  | { state: "mine"; info: LockInfo }
  | { state: "held"; info: LockInfo }
  | { state: "stale"; info: LockInfo | undefined; reason: string };

export function formatLock(info: LockInfo): string {
  return `${JSON.stringify(info)}\n`;
}

/** The lock file's record, or undefined when the text is not one (a torn or foreign file). */
export function parseLock(text: string): LockInfo | undefined {
  try {
    const data = JSON.parse(text) as Partial<LockInfo>;
    if (typeof data.user !== "string" || typeof data.host !== "string" || !Number.isInteger(data.pid) || typeof data.since !== "string") return undefined;
    return { user: data.user, host: data.host, pid: data.pid!, since: data.since, ...(typeof data.tool === "string" ? { tool: data.tool } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * @param text the lock file's text, undefined when there is none
 * @param isAlive whether a process of this host runs (EPERM counts as alive)
 */
export function judgeLock(text: string | undefined, me: { host: string; pid: number }, isAlive: (pid: number) => boolean): LockVerdict {
  if (text === undefined) return { state: "free" };
  const info = parseLock(text);
  if (!info) return { state: "stale", info: undefined, reason: "the lock file holds no lock record" };
  if (info.host === me.host && info.pid === me.pid) return { state: "mine", info };
  if (info.host === me.host && (info.pid <= 0 || !isAlive(info.pid))) return { state: "stale", info, reason: `process ${info.pid} no longer runs on ${info.host}` };
  return { state: "held", info };
}

/** `configuration locked by alice@lb-a (pid 4242, lbctl shell) since 2026-12-03T09:00:00Z, 5m ago`. */
export function describeLock(info: LockInfo, now: Date): string {
  const since = Date.parse(info.since);
  const ago = Number.isNaN(since) ? "" : `, ${duration(now.getTime() - since)} ago`;
  const tool = info.tool ? `, lbctl ${info.tool}` : "";
  return `configuration locked by ${info.user}@${info.host} (pid ${info.pid}${tool}) since ${info.since}${ago}`;
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ""}`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}
