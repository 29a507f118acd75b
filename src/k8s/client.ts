/**
 * A thin typed client of the Kubernetes API on Bun's fetch: TLS with the cluster's CA, a bearer token or a client
 * certificate; list (with resourceVersion, selectors, limit/continue), watch (newline-delimited JSON events),
 * get, create, replace, merge/JSON patch. Failures are K8sError with the API's Status message; 409 and 410 have
 * their own codes because callers handle them (re-read and retry; re-list).
 */

import { K8sError } from "./errors.ts";
import type { List, Status, WatchEvent } from "./types.ts";

export interface Credentials {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion: string;
  timeoutSeconds: number;
  signal?: AbortSignal;
}

export type PatchType = "merge" | "json" | "strategic";

const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
};

/** No single request may hang the controller: this bounds everything but watches. */
export const REQUEST_TIMEOUT_MS = 15_000;

export class KubeClient {
  constructor(
    private readonly credentials: Credentials,
    private readonly userAgent = "lbctl",
  ) {}

  get server(): string {
    return this.credentials.server;
  }

  async list<T>(path: string, options: ListOptions = {}): Promise<List<T>> {
    return (await this.request("GET", withQuery(path, { ...options, limit: options.limit?.toString() }))) as List<T>;
  }

  /** Every page of a list (limit/continue), and the resourceVersion to watch from. */
  async listAll<T>(path: string, options: Omit<ListOptions, "continue"> = {}): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let next: string | undefined;
    let resourceVersion = "";
    do {
      const page = await this.list<T>(path, { ...options, ...(next ? { continue: next } : {}) });
      items.push(...page.items);
      next = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion ?? resourceVersion;
    } while (next);
    return { items, resourceVersion };
  }

  async get<T>(path: string): Promise<T> {
    return (await this.request("GET", path)) as T;
  }

  async create<T>(path: string, body: unknown): Promise<T> {
    return (await this.request("POST", path, JSON.stringify(body), "application/json")) as T;
  }

  async replace<T>(path: string, body: unknown): Promise<T> {
    return (await this.request("PUT", path, JSON.stringify(body), "application/json")) as T;
  }

  async patch<T>(path: string, patch: unknown, type: PatchType = "merge"): Promise<T> {
    return (await this.request("PATCH", path, JSON.stringify(patch), PATCH_CONTENT_TYPE[type])) as T;
  }

  /**
   * Streams watch events to `onEvent` until the server ends the watch (its timeout), the signal aborts, or the
   * connection fails (thrown). An `ERROR` event is handed over like any other: the caller re-lists on 410.
   */
  async watch<T>(path: string, options: WatchOptions, onEvent: (event: WatchEvent<T>) => void): Promise<void> {
    const query = {
      watch: "1",
      allowWatchBookmarks: "true",
      resourceVersion: options.resourceVersion,
      timeoutSeconds: String(options.timeoutSeconds),
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
    };
    const response = await this.fetch("GET", withQuery(path, query), undefined, undefined, options.signal);
    if (!response.ok) throw await statusError(response, "GET", path);
    const reader = response.body?.getReader();
    if (!reader) throw new K8sError("api-protocol", `watch ${path}: the API server sent no body`);
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        let newline = buffered.indexOf("\n");
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== "") onEvent(parseEvent<T>(line, path));
          newline = buffered.indexOf("\n");
        }
      }
    } finally {
      reader.releaseLock();
    }
    if (buffered.trim() !== "") onEvent(parseEvent<T>(buffered.trim(), path));
  }

  private async request(method: string, path: string, body?: string, contentType?: string): Promise<unknown> {
    const response = await this.fetch(method, path, body, contentType, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
    if (!response.ok) throw await statusError(response, method, path);
    return response.json();
  }

  private async fetch(method: string, path: string, body: string | undefined, contentType: string | undefined, signal: AbortSignal | undefined): Promise<Response> {
    const { credentials } = this;
    const headers: Record<string, string> = { Accept: "application/json", "User-Agent": this.userAgent };
    if (contentType) headers["Content-Type"] = contentType;
    if (credentials.token) headers.Authorization = `Bearer ${credentials.token}`;
    const tls: Record<string, unknown> = {};
    if (credentials.ca) tls.ca = credentials.ca;
    if (credentials.cert && credentials.key) {
      tls.cert = credentials.cert;
      tls.key = credentials.key;
    }
    if (credentials.insecureSkipTlsVerify) tls.rejectUnauthorized = false;
    try {
      return await fetch(`${credentials.server}${path}`, { method, headers, ...(body !== undefined ? { body } : {}), ...(signal ? { signal } : {}), tls } as RequestInit);
    } catch (error) {
      if ((error as Error).name === "AbortError" && signal?.aborted && signal.reason?.name !== "TimeoutError") throw error;
      throw new K8sError("api-unreachable", `${method} ${credentials.server}${path}: ${(error as Error).message}`);
    }
  }
}

function withQuery(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== "") params.set(key, value);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function parseEvent<T>(line: string, path: string): WatchEvent<T> {
  try {
    const event = JSON.parse(line) as WatchEvent<T>;
    if (typeof event?.type !== "string" || typeof event.object !== "object") throw new Error("not a watch event");
    return event;
  } catch (error) {
    throw new K8sError("api-protocol", `watch ${path}: cannot read an event (${(error as Error).message}): ${line.slice(0, 200)}`);
  }
}

async function statusError(response: Response, method: string, path: string): Promise<K8sError> {
  let message = response.statusText;
  try {
    const status = (await response.json()) as Status;
    if (status.message) message = status.message;
  } catch {
    // Not a Status object: the HTTP status text says enough.
  }
  const code = response.status === 409 ? "api-conflict" : response.status === 410 ? "api-gone" : "api-status";
  return new K8sError(code, `${method} ${path}: ${response.status} ${message}`, response.status);
}

export function isConflict(error: unknown): boolean {
  return error instanceof K8sError && error.code === "api-conflict";
}
