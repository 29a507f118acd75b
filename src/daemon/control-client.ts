/**
 * The client side of the daemon's local control API (a unix socket, mode 0600). One-shot commands use it to find
 * out whether a daemon runs, and then talk to it instead of the kernel.
 */

import { existsSync } from "node:fs";

const TIMEOUT_MS = 2000;

/** True when something answers HTTP on the socket: a daemon runs. A stale socket file does not count. */
export async function daemonAnswers(socketPath: string): Promise<boolean> {
  if (!existsSync(socketPath)) return false;
  try {
    const response = await fetch("http://lbctl/v1/health", { unix: socketPath, signal: AbortSignal.timeout(TIMEOUT_MS) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

export interface DaemonReply<T> {
  status: number;
  body: T;
}

export async function daemonRequest<T>(socketPath: string, method: "GET" | "POST", path: string, timeoutMs = 30_000, body?: unknown): Promise<DaemonReply<T>> {
  const response = await fetch(`http://lbctl${path}`, {
    method,
    unix: socketPath,
    signal: AbortSignal.timeout(timeoutMs),
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  const text = await response.text();
  if (text.length > 64 * 1024 * 1024) throw new Error("The daemon's reply is too large");
  return { status: response.status, body: JSON.parse(text) as T };
}
