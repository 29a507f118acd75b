/** Probe results shared by the checks: operator-readable reasons for connection outcomes. */

import type { ProbeResult } from "../types.ts";

export function connected(latencyMs: number): ProbeResult {
  return { ok: true, reason: `connected in ${formatMs(latencyMs)}`, latencyMs };
}

/** A probe whose signal aborted: a timeout (the scheduler's deadline, AbortSignal.timeout) or a cancellation. */
export function aborted(signal: AbortSignal, timeoutMs: number, latencyMs: number): ProbeResult {
  const timedOut = signal.reason instanceof DOMException && signal.reason.name === "TimeoutError";
  return { ok: false, reason: timedOut ? `timed out after ${timeoutMs} ms` : "cancelled", latencyMs };
}

export function failed(error: unknown, latencyMs: number): ProbeResult {
  return { ok: false, reason: describeError(error), latencyMs };
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "timed out in the kernel",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EADDRNOTAVAIL: "no local address or port available",
  EMFILE: "too many open files in lbctl (probe not sent)",
  ENFILE: "too many open files on the host (probe not sent)",
  EACCES: "connection not permitted",
  EPERM: "connection not permitted",
};

export function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") return REASONS[code] ?? `connect failed: ${code}`;
  return `connect failed: ${error instanceof Error ? error.message : String(error)}`;
}

export function formatMs(ms: number): string {
  return `${ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
}
