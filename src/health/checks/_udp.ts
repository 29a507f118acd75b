/**
 * One UDP request/reply exchange, shared by the UDP checks: a fresh **connected** socket per probe, one request
 * datagram, and the first datagram back from the target judged by the check.
 *
 * Why connected, and one socket per probe:
 * - The kernel delivers to a connected socket only datagrams from the address and port it is connected to, and
 *   reports ICMP errors about that destination on it (recv fails with ECONNREFUSED after a port unreachable). Bun
 *   1.4.5 surfaces that error through the socket's `error` handler (verified by "Bun's UDP sockets" in
 *   tests/health/checks/udp-exchange.test.ts; see docs/udp-health-checks.md "ICMP errors"), so a closed port fails
 *   this probe at once, and no other.
 * - A fresh socket has a fresh source port: a late reply to an earlier probe cannot be taken for this one's.
 *
 * A reply is never taken on trust: it must come from the target's address and port (the kernel filters, this
 * checks again for the instant between bind and connect), must not have been truncated by the receive buffer, and is
 * then judged byte by byte by the check. Healthy needs a correct reply; silence is a failure (keepalived #2477).
 */

import type { udp } from "bun";
import type { ProbeResult, ProbeTarget } from "../types.ts";
import { preview } from "./_bytes.ts";
import { formatMs } from "./_results.ts";

/**
 * What a check makes of one datagram from the target: a verdict, or `provisional` (not final, keep waiting: a SIP
 * 100 Trying), with what to say should the probe then time out.
 */
export type Judgement = { ok: boolean; reason: string } | { provisional: string };

export interface UdpExchange {
  /** The request datagram, or a function making it from the socket's local address (SIP names it in its Via). */
  request: Uint8Array | ((local: { address: string; port: number }) => Uint8Array);
  judge(reply: Uint8Array): Judgement;
}

/** Errors of a UDP socket, as operators read them. ICMP errors arrive as errno values on the connected socket. */
const UDP_REASONS: Record<string, string> = {
  ECONNREFUSED: "ICMP port unreachable",
  EHOSTUNREACH: "ICMP host unreachable",
  ENETUNREACH: "ICMP network unreachable",
  EHOSTDOWN: "host down",
  ENONET: "host not on the network",
  EMSGSIZE: "request too large for the path (ICMP fragmentation needed)",
  EPROTO: "ICMP protocol error",
  EACCES: "sending not permitted (firewall)",
  EPERM: "sending not permitted (firewall)",
  EADDRNOTAVAIL: "no local address available",
  EAFNOSUPPORT: "address family not supported",
  EMFILE: "too many open files in lbctl (probe not sent)",
  ENFILE: "too many open files on the host (probe not sent)",
  ENOBUFS: "no kernel buffer space (probe not sent)",
};

export function describeUdpError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") return UDP_REASONS[code] ?? `socket error: ${code}`;
  return `socket error: ${error instanceof Error ? error.message : String(error)}`;
}

export function udpExchange(target: ProbeTarget, signal: AbortSignal, exchange: UdpExchange): Promise<ProbeResult> {
  return new Promise((resolve) => new UdpProbe(target, signal, exchange, resolve).start());
}

class UdpProbe {
  readonly #started = performance.now();
  #resolve: ((result: ProbeResult) => void) | undefined;
  #socket: udp.ConnectedSocket<"uint8array"> | undefined;
  /** The last provisional reply, for the timeout's reason. */
  #pending: string | undefined;

  constructor(
    readonly target: ProbeTarget,
    readonly signal: AbortSignal,
    readonly exchange: UdpExchange,
    resolve: (result: ProbeResult) => void,
  ) {
    this.#resolve = resolve;
  }

  async start(): Promise<void> {
    if (this.signal.aborted) return this.handleEvent();
    this.signal.addEventListener("abort", this, { once: true });
    let socket: udp.ConnectedSocket<"uint8array">;
    try {
      socket = await Bun.udpSocket({
        // Bound to the wildcard of the target's family: binding defaults to 0.0.0.0, and an IPv4 socket cannot
        // connect to an IPv6 target (EAFNOSUPPORT).
        hostname: this.target.family === 6 ? "::" : "0.0.0.0",
        binaryType: "uint8array",
        connect: { hostname: this.target.address, port: this.target.port },
        socket: {
          data: (_socket, data, port, address, flags) => this.#onData(data, port, address, flags.truncated),
          // Bun 1.4.5 calls error(err) with the socket as `this`; its types (and other releases) say
          // error(socket, err). Take whichever argument is the error.
          error: (first: unknown, second?: unknown) => this.#finish({ ok: false, reason: describeUdpError(first instanceof Error ? first : second) }),
        },
      });
    } catch (error) {
      this.#finish({ ok: false, reason: describeUdpError(error) });
      return;
    }
    // Aborted (or failed) while the socket was being made: it is released now, before anything is sent.
    if (this.#resolve === undefined) return socket.close();
    this.#socket = socket;
    try {
      const { request } = this.exchange;
      const datagram = typeof request === "function" ? request(socket.address) : request;
      // false: the kernel's send buffer is full; nothing was sent and nothing will come back.
      if (!socket.send(datagram)) this.#finish({ ok: false, reason: "send buffer full (probe not sent)" });
    } catch (error) {
      this.#finish({ ok: false, reason: describeUdpError(error) });
    }
  }

  /** The abort listener: a timeout or a cancellation. */
  handleEvent(): void {
    const timedOut = this.signal.reason instanceof DOMException && this.signal.reason.name === "TimeoutError";
    const timeoutMs = this.target.health.timeout_ms;
    // The scheduler records its own "timed out after N ms" for a probe past its deadline; the same words here, so
    // that a one-off probe reads alike. The detail only shows where the caller takes this result.
    const reason = !timedOut ? "cancelled" : `timed out after ${timeoutMs} ms${this.#pending ? ` (last reply: ${this.#pending})` : ""}`;
    this.#finish({ ok: false, reason });
  }

  #onData(data: Uint8Array, port: number, address: string, truncated: boolean): void {
    // Nothing is sent before #socket is set: a datagram before that cannot be a reply.
    if (this.#resolve === undefined || this.#socket === undefined) return;
    const remote = this.#socket.remoteAddress;
    if (address !== remote.address || port !== remote.port) {
      return this.#finish({ ok: false, reason: `reply from ${address}:${port}, not from the target` });
    }
    if (truncated) return this.#finish({ ok: false, reason: `reply truncated by the receive buffer (${data.length} bytes kept): ${preview(data)}` });
    let judgement: Judgement;
    try {
      judgement = this.exchange.judge(data);
    } catch (error) {
      // Judges return reasons for every malformed reply; an exception is a bug, reported rather than crashing.
      judgement = { ok: false, reason: `reply not understood: ${error instanceof Error ? error.message : String(error)}` };
    }
    if ("provisional" in judgement) {
      this.#pending = judgement.provisional;
      return;
    }
    this.#finish(judgement);
  }

  #finish(judgement: { ok: boolean; reason: string }): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#resolve = undefined;
    this.signal.removeEventListener("abort", this);
    this.#socket?.close();
    this.#socket = undefined;
    const latencyMs = performance.now() - this.#started;
    resolve({ ok: judgement.ok, reason: judgement.ok ? `${judgement.reason} in ${formatMs(latencyMs)}` : judgement.reason, latencyMs });
  }
}
