/**
 * Pushes the metrics to the InfluxDB v2 write API every `push_interval_seconds`, in the background: one request
 * at a time, each with a timeout; a failed batch is retried with exponential backoff (1 s doubling, at most the
 * push interval) while newer batches queue behind it (at most MAX_BATCHES, the oldest dropped first). A batch the
 * server rejects as malformed or unauthorised (4xx other than 408/429) is dropped: resending cannot help.
 * The token goes only into the Authorization header; nothing logged contains it.
 */

import { retryDelayMs } from "./backoff.ts";

export interface InfluxSettings {
  url: string;
  token: string;
  org: string;
  bucket: string;
  pushIntervalSeconds: number;
}

export interface InfluxPusherDeps {
  /** The line protocol of every metric at `time` (Unix seconds): the body of one write. */
  body: (time: number) => Promise<Uint8Array | string>;
  /** A failure to report (rate-limited by the caller); never contains the token. */
  onError: (message: string) => void;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Unix time in ms. */
  now?: () => number;
  requestTimeoutMs?: number;
}

const MAX_BATCHES = 10;
const RETRY_BASE_MS = 1000;

/** The write endpoint, and the same without credentials or query for messages. */
export function writeUrl(settings: Pick<InfluxSettings, "url" | "org" | "bucket">): string {
  const base = settings.url.replace(/\/+$/, "");
  return `${base}/api/v2/write?org=${encodeURIComponent(settings.org)}&bucket=${encodeURIComponent(settings.bucket)}&precision=s`;
}

export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

export class InfluxPusher {
  #settings: InfluxSettings;
  readonly #deps: InfluxPusherDeps;
  readonly #batches: (Uint8Array | string)[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #inFlight: AbortController | undefined;
  #attempt = 0;
  #stopped = false;
  /** Batches written so far (tests and the benchmark read it). */
  written = 0;

  constructor(settings: InfluxSettings, deps: InfluxPusherDeps) {
    this.#settings = settings;
    this.#deps = deps;
  }

  start(): void {
    this.#schedule();
  }

  reconfigure(settings: InfluxSettings): void {
    const intervalChanged = settings.pushIntervalSeconds !== this.#settings.pushIntervalSeconds;
    const targetChanged = writeUrl(settings) !== writeUrl(this.#settings) || settings.token !== this.#settings.token;
    this.#settings = settings;
    if (targetChanged) {
      this.#attempt = 0;
      if (this.#retry) {
        clearTimeout(this.#retry);
        this.#retry = undefined;
        void this.#pump();
      }
    }
    if (intervalChanged) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#schedule();
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#retry) clearTimeout(this.#retry);
    this.#inFlight?.abort();
  }

  /** Takes a snapshot now and queues it (the timer calls this). */
  async collect(): Promise<void> {
    const time = Math.floor((this.#deps.now?.() ?? Date.now()) / 1000);
    const body = await this.#deps.body(time);
    if (body.length === 0) return;
    this.#batches.push(body);
    if (this.#batches.length > MAX_BATCHES) {
      this.#batches.splice(0, this.#batches.length - MAX_BATCHES);
      this.#deps.onError(`InfluxDB: kept only the newest ${MAX_BATCHES} batches, older ones were dropped`);
    }
    await this.#pump();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.collect().catch((error: Error) => this.#deps.onError(`InfluxDB: ${error.message}`));
      this.#schedule();
    }, this.#settings.pushIntervalSeconds * 1000);
  }

  async #pump(): Promise<void> {
    while (!this.#stopped && !this.#inFlight && !this.#retry && this.#batches.length > 0) {
      const outcome = await this.#send(this.#batches[0]!);
      if (outcome === "retry") {
        if (this.#stopped) return;
        this.#attempt++;
        const delay = retryDelayMs(this.#attempt, { baseMs: RETRY_BASE_MS, maxMs: this.#settings.pushIntervalSeconds * 1000 });
        this.#retry = setTimeout(() => {
          this.#retry = undefined;
          void this.#pump();
        }, delay);
        return;
      }
      this.#batches.shift();
      this.#attempt = 0;
      if (outcome === "ok") this.written++;
    }
  }

  async #send(body: Uint8Array | string): Promise<"ok" | "drop" | "retry"> {
    const settings = this.#settings;
    const controller = new AbortController();
    this.#inFlight = controller;
    const timeout = setTimeout(() => controller.abort(), this.#deps.requestTimeoutMs ?? 10_000);
    const where = safeUrl(settings.url);
    try {
      const response = await (this.#deps.fetch ?? fetch)(writeUrl(settings), {
        method: "POST",
        headers: { authorization: `Token ${settings.token}`, "content-type": "text/plain; charset=utf-8" },
        body,
        signal: controller.signal,
      });
      if (response.ok) return "ok";
      const detail = (await response.text().catch(() => "")).slice(0, 200).replaceAll(settings.token || "\u0000", "***");
      const retry = response.status >= 500 || response.status === 408 || response.status === 429;
      this.#deps.onError(`InfluxDB write to ${where} failed: HTTP ${response.status}${detail ? ` ${detail}` : ""}${retry ? "; will retry" : "; batch dropped"}`);
      return retry ? "retry" : "drop";
    } catch (error) {
      const message = controller.signal.aborted ? "timed out or stopped" : (error as Error).message.replaceAll(settings.token || "\u0000", "***");
      if (!this.#stopped) this.#deps.onError(`InfluxDB write to ${where} failed: ${message}; will retry`);
      return "retry";
    } finally {
      clearTimeout(timeout);
      this.#inFlight = undefined;
    }
  }
}
