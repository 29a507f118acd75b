/**
 * TCP check: the backend is healthy when a TCP connection to address:port completes before the probe's signal
 * aborts. The connection is then closed with a reset, so the prober keeps no TIME_WAIT socket per probe (10,000
 * targets at 1 s would hold 600,000, past the kernel's table) and the backend's accept loop sees it close at once.
 *
 * Two ways to connect, because Bun.connect cannot cancel a connection attempt: its promise and its socket only
 * appear once the handshake ends, so a probe of a backend that never answers (a dead host, a firewall dropping SYNs)
 * would leave its socket retrying SYNs in the kernel for about two minutes. Bun.connect is used while an endpoint
 * answers (connects or refuses), which is the cheap common case; once an attempt outlives its probe, the endpoint is
 * probed with node:net, whose socket can be destroyed mid-handshake, until it answers again. A silent endpoint
 * therefore holds at most one stray connection attempt, not one per probe.
 */

import { Socket as NetSocket } from "node:net";
import type { Socket, SocketHandler } from "bun";
import { hostPort } from "../../config/model.ts";
import type { Checker, ProbeResult, ProbeTarget } from "../types.ts";

export const tcpChecker: Checker = {
  type: "tcp",
  probe(target, signal) {
    const endpoint = hostPort(target.address, target.port);
    return silent.has(endpoint) ? probeCancellable(target, endpoint, signal) : probeFast(target, endpoint, signal);
  },
};

/** Endpoints whose last fast connection attempt outlived its probe; probed the cancellable way until they answer. */
const silent = new Set<string>();
/** Above this many silent endpoints the set is cleared: it only picks the cheaper path, and must not grow forever. */
const MAX_SILENT = 100_000;

/** Probes made the fast way that are still waiting for the kernel (for tests and the benchmark). */
export function strayConnectionAttempts(): number {
  return strays;
}
let strays = 0;

interface FastProbe {
  endpoint: string;
  started: number;
  signal: AbortSignal;
  resolve: ((result: ProbeResult) => void) | undefined;
  onAbort: () => void;
}

// One handler object for every probe: per-probe state travels in socket.data, so a probe allocates little.
const FAST_HANDLERS: SocketHandler<FastProbe> = {
  open(socket: Socket<FastProbe>) {
    const probe = socket.data;
    socket.terminate();
    if (probe.resolve === undefined) {
      strays--;
      return;
    }
    finish(probe, connected(elapsed(probe.started)));
  },
  connectError(socket: Socket<FastProbe>, error: Error) {
    const probe = socket.data;
    if (probe.resolve === undefined) {
      strays--;
      return;
    }
    finish(probe, { ok: false, reason: describeError(error), latencyMs: elapsed(probe.started) });
  },
  data() {},
  close() {},
  error() {},
};

function probeFast(target: ProbeTarget, endpoint: string, signal: AbortSignal): Promise<ProbeResult> {
  if (signal.aborted) return Promise.resolve(abortedResult(signal, target, 0));
  return new Promise((resolve) => {
    const probe: FastProbe = {
      endpoint,
      started: performance.now(),
      signal,
      resolve,
      onAbort: () => {
        // The attempt cannot be cancelled: let it run out in the kernel, and use the cancellable path from now on.
        strays++;
        if (silent.size >= MAX_SILENT) silent.clear();
        silent.add(endpoint);
        finish(probe, abortedResult(signal, target, elapsed(probe.started)));
      },
    };
    signal.addEventListener("abort", probe.onAbort, { once: true });
    try {
      // connectError handles a failed attempt; the rejected promise then is not reported as unhandled.
      void Bun.connect({ hostname: target.address, port: target.port, data: probe, socket: FAST_HANDLERS });
    } catch (error) {
      finish(probe, { ok: false, reason: describeError(error), latencyMs: elapsed(probe.started) });
    }
  });
}

function finish(probe: FastProbe, result: ProbeResult): void {
  const resolve = probe.resolve;
  if (resolve === undefined) return;
  probe.resolve = undefined;
  probe.signal.removeEventListener("abort", probe.onAbort);
  resolve(result);
}

function probeCancellable(target: ProbeTarget, endpoint: string, signal: AbortSignal): Promise<ProbeResult> {
  if (signal.aborted) return Promise.resolve(abortedResult(signal, target, 0));
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = new NetSocket();
    const done = (result: ProbeResult, answered: boolean) => {
      signal.removeEventListener("abort", onAbort);
      if (answered) silent.delete(endpoint);
      resolve(result);
    };
    const onAbort = () => {
      socket.removeAllListeners();
      socket.on("error", () => {});
      socket.destroy();
      done(abortedResult(signal, target, elapsed(started)), false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      socket.removeAllListeners();
      socket.on("error", () => {});
      socket.resetAndDestroy();
      done(connected(elapsed(started)), true);
    });
    socket.once("error", (error) => {
      socket.destroy();
      done({ ok: false, reason: describeError(error), latencyMs: elapsed(started) }, true);
    });
    socket.connect({ host: target.address, port: target.port, family: target.family });
  });
}

function connected(latencyMs: number): ProbeResult {
  return { ok: true, reason: `connected in ${formatMs(latencyMs)}`, latencyMs };
}

function abortedResult(signal: AbortSignal, target: ProbeTarget, latencyMs: number): ProbeResult {
  const timedOut = signal.reason instanceof DOMException && signal.reason.name === "TimeoutError";
  return { ok: false, reason: timedOut ? `timed out after ${target.health.timeout_ms} ms` : "cancelled", latencyMs };
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

function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") return REASONS[code] ?? `connect failed: ${code}`;
  return `connect failed: ${error instanceof Error ? error.message : String(error)}`;
}

function elapsed(started: number): number {
  return performance.now() - started;
}

function formatMs(ms: number): string {
  return `${ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
}
