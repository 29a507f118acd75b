/**
 * A TCP connect that can be cancelled mid-handshake (node:net destroys the socket at once), for endpoints that do
 * not answer. Slower per probe than Bun.connect (stream machinery), so tcp.ts uses it only where it matters.
 */

import { Socket } from "node:net";
import type { ProbeResult, ProbeTarget } from "../types.ts";
import { aborted, connected, failed } from "./_results.ts";

export interface CancellableResult {
  result: ProbeResult;
  /** The endpoint answered (connected or refused), as opposed to the probe being aborted. */
  answered: boolean;
}

export function connectCancellable(target: ProbeTarget, signal: AbortSignal): Promise<CancellableResult> {
  if (signal.aborted) return Promise.resolve({ result: aborted(signal, target.health.timeout_ms, 0), answered: false });
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = new Socket();
    const done = (result: ProbeResult, answered: boolean) => {
      signal.removeEventListener("abort", onAbort);
      resolve({ result, answered });
    };
    // Late events of a socket we gave up on must not surface as unhandled "error" events.
    const quiet = () => {
      socket.removeAllListeners();
      socket.on("error", () => {});
    };
    const onAbort = () => {
      quiet();
      socket.destroy();
      done(aborted(signal, target.health.timeout_ms, performance.now() - started), false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      quiet();
      socket.resetAndDestroy();
      done(connected(performance.now() - started), true);
    });
    socket.once("error", (error) => {
      quiet();
      socket.destroy();
      done(failed(error, performance.now() - started), true);
    });
    socket.connect({ host: target.address, port: target.port, family: target.family });
  });
}
