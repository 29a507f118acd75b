/**
 * http (TCP services): `GET http_path` [/] with `Host: http_host` [the probe's address, and its port unless 80],
 * healthy when the response's status is in `http_status` [200-399]. Only the status line is read (at most
 * MAX_STATUS_LINE bytes), and with `http_weight_header` the header fields too (at most MAX_HEAD bytes): a passing
 * probe then reports that header's value as the backend's weight (kube-proxy's healthCheckNodePort answers with
 * X-Load-Balancing-Endpoint-Weight, its count of local endpoints). Never the body. The connection is then reset, so
 * the prober keeps no TIME_WAIT socket per probe (the reasoning of tcp.ts).
 *
 * The connection is made with node:net because its socket can be destroyed mid-handshake: a probe of a backend that
 * never answers (dead host, SYNs dropped) releases its socket the moment the probe is aborted, instead of leaving a
 * connection attempt retrying SYNs in the kernel (Bun.connect cannot cancel one; tcp.ts). The same socket serves
 * the rest of the exchange, so a server that accepts and then says nothing is abandoned just as promptly.
 */

import { Socket } from "node:net";
import { hostPort } from "../../config/model.ts";
import type { Checker, ProbeResult, ProbeTarget } from "../types.ts";
import { concatBytes } from "./_bytes.ts";
import { formatRanges, inRanges, type StatusRanges } from "./_ranges.ts";
import { describeError, formatMs } from "./_results.ts";
import { decodeHeaderField, decodeStatusLine, encodeRequest, HttpMessageError, MAX_HEAD, MAX_STATUS_LINE, parseReportedWeight, type StatusLine } from "./http/message.ts";

export const DEFAULT_HTTP_PATH = "/";
export const DEFAULT_HTTP_STATUS: StatusRanges = [[200, 399]];

/** The Host header without `http_host`: the address (IPv6 in brackets), with the port unless it is 80. */
export function defaultHttpHost(target: Pick<ProbeTarget, "address" | "port">): string {
  if (target.port !== 80) return hostPort(target.address, target.port);
  return target.address.includes(":") ? `[${target.address}]` : target.address;
}

export const httpChecker: Checker = {
  type: "http",
  probe(target, signal) {
    return new Promise((resolve) => new HttpProbe(target, signal, resolve).start());
  },
};

class HttpProbe {
  readonly #started = performance.now();
  readonly #socket = new Socket();
  #resolve: ((result: ProbeResult) => void) | undefined;
  #received: Uint8Array = new Uint8Array(0);
  #connected = false;
  /** The passing status line, while the header fields `http_weight_header` needs are still arriving. */
  #passed: string | undefined;

  constructor(
    readonly target: ProbeTarget,
    readonly signal: AbortSignal,
    resolve: (result: ProbeResult) => void,
  ) {
    this.#resolve = resolve;
  }

  start(): void {
    if (this.signal.aborted) return this.handleEvent();
    this.signal.addEventListener("abort", this, { once: true });
    const socket = this.#socket;
    socket.once("connect", () => {
      this.#connected = true;
      const health = this.target.health;
      socket.write(encodeRequest(health.http_path ?? DEFAULT_HTTP_PATH, health.http_host ?? defaultHttpHost(this.target)));
    });
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.once("end", () => this.#fail(this.#connected ? this.#closedEarly() : "connection closed"));
    socket.once("close", () => this.#fail(this.#closedEarly()));
    socket.once("error", (error) => this.#fail(describeError(error)));
    try {
      socket.connect({ host: this.target.address, port: this.target.port, family: this.target.family });
    } catch (error) {
      this.#fail(describeError(error));
    }
  }

  #closedEarly(): string {
    return this.#passed === undefined ? "connection closed before a status line" : `connection closed before the end of the header fields (${this.#passed})`;
  }

  /** The abort listener: a timeout or a cancellation. */
  handleEvent(): void {
    const timedOut = this.signal.reason instanceof DOMException && this.signal.reason.name === "TimeoutError";
    const timeoutMs = this.target.health.timeout_ms;
    if (!timedOut) return this.#fail("cancelled");
    // The scheduler records its own "timed out after N ms" for a probe past its deadline; the same words here.
    const where = this.#passed !== undefined ? " (connected, header fields incomplete)" : this.#connected ? " (connected, no status line)" : "";
    this.#fail(`timed out after ${timeoutMs} ms${where}`);
  }

  #onData(chunk: Uint8Array): void {
    if (this.#resolve === undefined) return;
    const weightHeader = this.target.health.http_weight_header;
    // Only what the status line (or, for a weight, the head) may need is kept: the decoders fail past their limit.
    const limit = weightHeader ? MAX_HEAD : MAX_STATUS_LINE;
    this.#received = concatBytes(this.#received, chunk.subarray(0, limit - this.#received.length));
    try {
      if (this.#passed === undefined) {
        const line = decodeStatusLine(this.#received);
        if (line === undefined) return;
        const status = describeStatus(line);
        const expected = this.target.health.http_status ?? DEFAULT_HTTP_STATUS;
        if (!inRanges(line.status, expected)) return this.#fail(`${status}, expected ${formatRanges(expected)}`);
        if (!weightHeader) return this.#finish(true, status);
        this.#passed = status;
      }
      const value = decodeHeaderField(this.#received, weightHeader as string);
      if (value === undefined) return;
      // No header: the configured weight applies (the server does not report one).
      if (value === null) return this.#finish(true, `${this.#passed} without ${weightHeader}`);
      const weight = parseReportedWeight(value);
      if (weight === undefined) return this.#fail(`${this.#passed} with ${weightHeader}: ${JSON.stringify(value.slice(0, 40))}, expected an integer 0-65535`);
      this.#finish(true, `${this.#passed}, ${weightHeader}: ${weight}`, weight);
    } catch (error) {
      if (error instanceof HttpMessageError) return this.#fail(error.message);
      throw error;
    }
  }

  #fail(reason: string): void {
    this.#finish(false, reason);
  }

  #finish(ok: boolean, reason: string, weight?: number): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#resolve = undefined;
    this.signal.removeEventListener("abort", this);
    const socket = this.#socket;
    // Late events of a socket we are done with must not surface as unhandled "error" events.
    socket.removeAllListeners();
    socket.on("error", () => {});
    if (this.#connected) socket.resetAndDestroy();
    else socket.destroy();
    const latencyMs = performance.now() - this.#started;
    resolve({ ok, reason: ok ? `${reason} in ${formatMs(latencyMs)}` : reason, latencyMs, ...(weight !== undefined ? { weight } : {}) });
  }
}

function describeStatus(line: StatusLine): string {
  return `HTTP ${line.status}${line.reasonPhrase ? ` ${line.reasonPhrase}` : ""}`;
}
