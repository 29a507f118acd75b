/**
 * The TCP check through Bun.connect: the fallback of tcp.ts where the native prober (_tcp-native.ts) cannot run, and
 * the prober of targets whose address is not an IP literal. Same contract as tcp.ts.
 *
 * Two ways to connect, because Bun.connect cannot cancel a connection attempt: its promise and its socket only
 * appear once the handshake ends, so a probe of a backend that never answers (a dead host, a firewall dropping SYNs)
 * would leave its socket retrying SYNs in the kernel for about two minutes. Bun.connect is used while an endpoint
 * answers (connects or refuses), the cheap common case; once an attempt outlives its probe, the endpoint is probed
 * with node:net (_tcp-cancellable.ts), whose socket can be destroyed mid-handshake, until it answers again. A
 * silent endpoint therefore holds at most one stray connection attempt, not one per probe.
 */

import type { Socket, SocketHandler } from "bun";
import { hostPort } from "../../config/model.ts";
import type { Checker, ProbeResult, ProbeTarget } from "../types.ts";
import { aborted, connected, failed } from "./_results.ts";
import { connectCancellable } from "./_tcp-cancellable.ts";

/** Endpoints whose last fast connection attempt outlived its probe; probed the cancellable way until they answer. */
class SilentEndpoints {
  /** Above this many the set is cleared: it only picks the cheaper path, and must not grow forever. */
  static readonly MAX = 100_000;
  readonly endpoints = new Set<string>();
  /** Fast connection attempts that outlived their probe and still wait for the kernel. */
  strays = 0;

  add(endpoint: string): void {
    if (this.endpoints.size >= SilentEndpoints.MAX) this.endpoints.clear();
    this.endpoints.add(endpoint);
  }
}

export interface BunTcpChecker extends Checker {
  /** Fast connection attempts that outlived their probe and still wait for the kernel (for tests and the benchmark). */
  strayConnectionAttempts(): number;
}

/**
 * The fast probes waiting on one abort signal. The scheduler hands a target's probes the same signal until one
 * aborts, so its listener is added once per signal rather than added and removed at every probe (a tenth of the
 * checker's own CPU per probe, profiled).
 */
class AbortWatch {
  readonly probes = new Set<FastProbe>();

  static of(signal: AbortSignal, watches: WeakMap<AbortSignal, AbortWatch>): AbortWatch {
    let watch = watches.get(signal);
    if (watch === undefined) {
      watch = new AbortWatch();
      watches.set(signal, watch);
      signal.addEventListener("abort", watch, { once: true });
    }
    return watch;
  }

  handleEvent(): void {
    for (const probe of [...this.probes]) probe.abort();
  }
}

/** A Bun.connect TCP checker with its own memory of silent endpoints. */
export function createBunTcpChecker(): BunTcpChecker {
  const silent = new SilentEndpoints();
  const watches = new WeakMap<AbortSignal, AbortWatch>();
  return {
    type: "tcp",
    probe(target, signal) {
      // The endpoint string is only built while some endpoint is silent: most probes skip it.
      const endpoint = silent.endpoints.size > 0 ? hostPort(target.address, target.port) : undefined;
      if (endpoint !== undefined && silent.endpoints.has(endpoint)) return probeCancellable(target, endpoint, signal, silent);
      if (signal.aborted) return Promise.resolve(aborted(signal, target.health.timeout_ms, 0));
      return new Promise((resolve) => new FastProbe(target, signal, AbortWatch.of(signal, watches), silent, resolve).start());
    },
    strayConnectionAttempts: () => silent.strays,
  };
}

async function probeCancellable(target: ProbeTarget, endpoint: string, signal: AbortSignal, silent: SilentEndpoints): Promise<ProbeResult> {
  const { result, answered } = await connectCancellable(target, signal);
  if (answered) silent.endpoints.delete(endpoint);
  return result;
}

/** One Bun.connect probe: its socket's data, so a probe allocates one object besides its promise; every socket shares FAST_HANDLERS. */
class FastProbe {
  readonly #started = performance.now();
  #resolve: ((result: ProbeResult) => void) | undefined;

  constructor(
    readonly target: ProbeTarget,
    readonly signal: AbortSignal,
    readonly watch: AbortWatch,
    readonly silent: SilentEndpoints,
    resolve: (result: ProbeResult) => void,
  ) {
    this.#resolve = resolve;
  }

  start(): void {
    this.watch.probes.add(this);
    try {
      // connectError reports a failed attempt; the rejected promise then is not reported as unhandled.
      void Bun.connect({ hostname: this.target.address, port: this.target.port, data: this, socket: FAST_HANDLERS });
    } catch (error) {
      this.finish(failed(error, this.elapsed()));
    }
  }

  /** The signal aborted: the attempt cannot be cancelled, so it runs out in the kernel; switch the endpoint over. */
  abort(): void {
    if (this.#resolve === undefined) return;
    this.silent.strays++;
    this.silent.add(hostPort(this.target.address, this.target.port));
    this.finish(aborted(this.signal, this.target.health.timeout_ms, this.elapsed()));
  }

  /** True while the probe waits for the kernel's answer; an answer after the probe ended closes a stray attempt. */
  pending(): boolean {
    if (this.#resolve !== undefined) return true;
    this.silent.strays--;
    return false;
  }

  finish(result: ProbeResult): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#resolve = undefined;
    this.watch.probes.delete(this);
    resolve(result);
  }

  elapsed(): number {
    return performance.now() - this.#started;
  }
}

const FAST_HANDLERS: SocketHandler<FastProbe> = {
  open(socket: Socket<FastProbe>) {
    socket.terminate();
    const probe = socket.data;
    if (probe.pending()) probe.finish(connected(probe.elapsed()));
  },
  connectError(socket: Socket<FastProbe>, error: Error) {
    const probe = socket.data;
    if (probe.pending()) probe.finish(failed(error, probe.elapsed()));
  },
  data() {},
  close() {},
  error() {},
};
