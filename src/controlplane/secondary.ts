/**
 * The secondary: keeps one connection to the primary (reconnecting with jittered, capped backoff), verifies the
 * primary's certificate against the CA and its SANs against `server_name` (default: the host of
 * `primary_address`), says which set it has, applies `config.update` through the Replica, and asks for the
 * primary's digest every `sync_interval_seconds`. While the primary is away it keeps serving its last set.
 */

import { checkServerIdentity, connect, type PeerCertificate, type TLSSocket } from "node:tls";
import { backoffDelayMs, RECONNECT_BACKOFF } from "./backoff.ts";
import { RpcConnection, methodNotFound } from "./connection.ts";
import { ControlPlaneError, REASONS, RpcCode } from "./errors.ts";
import { identityOf, peerFields, pinMatches, type PeerIdentity } from "./identity.ts";
import { idleTimeoutMs, type ControlPlaneLimits } from "./limits.ts";
import type { ControlPlaneObserver, ControlPlaneStatus } from "./observer.ts";
import { SlidingWindowLimiter } from "./rate-limiter.ts";
import type { Replica } from "./replica.ts";
import { tlsOptions, type TlsMaterial } from "./tls-material.ts";

export interface SecondaryOptions {
  node: string;
  primary: { host: string; port: number };
  serverName: string;
  tls: TlsMaterial;
  pins: readonly string[];
  limits: ControlPlaneLimits;
  syncIntervalSeconds: number;
  replica: Replica;
  observer: ControlPlaneObserver;
  now?: () => number;
  random?: () => number;
}

export class Secondary {
  #connection: RpcConnection | undefined;
  #identity: PeerIdentity | undefined;
  #attempt = 0;
  #reconnect: ReturnType<typeof setTimeout> | undefined;
  #sync: ReturnType<typeof setInterval> | undefined;
  #stopped = false;
  #lastSync: Date | null = null;
  #primaryDigest: string | null = null;
  /** The name of the primary in the connected metric: `primary` until its certificate's CN is known. */
  #peerName = "primary";
  readonly #now: () => number;

  constructor(private readonly options: SecondaryOptions) {
    this.#now = options.now ?? (() => performance.now());
  }

  start(): void {
    this.options.observer.started("secondary", this.options.tls.expiry);
    this.options.observer.connected(this.#peerName, false);
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#reconnect) clearTimeout(this.#reconnect);
    if (this.#sync) clearInterval(this.#sync);
    this.#connection?.close("secondary stopping");
  }

  get connected(): boolean {
    return this.#connection !== undefined && !this.#connection.closed && this.#identity !== undefined;
  }

  status(): ControlPlaneStatus {
    const { host, port } = this.options.primary;
    let digest: string | null = null;
    try {
      digest = this.options.replica.currentDigest();
    } catch {
      // unreadable include: shown as null
    }
    return {
      mode: "secondary",
      digest,
      peers: [{ peer: this.#identity?.cn ?? "primary", address: `${host}:${port}`, connected: this.connected, last_sync: this.#lastSync?.toISOString() ?? null, digest: this.#primaryDigest }],
    };
  }

  #connect(): void {
    if (this.#stopped) return;
    const { options } = this;
    const { observer } = options;
    const remote = `${options.primary.host}:${options.primary.port}`;
    let refusedReason: string | undefined;
    const socket: TLSSocket = connect({
      ...tlsOptions(options.tls),
      host: options.primary.host,
      port: options.primary.port,
      rejectUnauthorized: true,
      checkServerIdentity: (_host: string, cert: PeerCertificate) => {
        const mismatch = checkServerIdentity(options.serverName, cert);
        if (mismatch) {
          refusedReason = "name_mismatch";
          return mismatch;
        }
        if (!pinMatches(identityOf(cert.raw), options.pins)) {
          refusedReason = "pin_mismatch";
          return new Error("the primary's key matches no tls.pin_sha256");
        }
        return undefined;
      },
    });
    const handshakeTimer = setTimeout(() => socket.destroy(new Error(`no TLS handshake within ${options.limits.handshake_timeout_ms} ms`)), options.limits.handshake_timeout_ms);
    let established = false;
    socket.once("secureConnect", () => {
      clearTimeout(handshakeTimer);
      established = true;
      const identity = identityOf(socket.getPeerCertificate().raw);
      this.#identity = identity;
      const updates = new SlidingWindowLimiter(options.limits.max_updates_per_minute, 60_000);
      const connection = new RpcConnection(socket, {
        maxMessageBytes: options.limits.max_message_bytes,
        idleTimeoutMs: idleTimeoutMs(options.syncIntervalSeconds),
        onRequest: (method, params) => this.#onRequest(identity, remote, updates, method, params),
        onClose: (reason) => this.#onClosed(identity, remote, reason),
        onProtocolError: (error) => {
          observer.update("refused");
          observer.audit("controlplane_update_refused", "warn", `The primary sent an invalid message: ${error.message}`, { code: error.code, reason: REASONS[error.code], ...peerFields(identity, remote) });
        },
      });
      this.#connection = connection;
      void this.#hello(connection, identity, remote);
    });
    socket.once("error", (error: Error & { code?: string }) => {
      clearTimeout(handshakeTimer);
      if (established) return;
      if (refusedReason || /CERT|SSL|certificate|TLS/i.test(`${error.code} ${error.message}`)) {
        observer.audit("controlplane_handshake_refused", "warn", `The primary at ${remote} was refused: ${error.message}`, { reason: refusedReason ?? error.code ?? "tls", remote_address: remote });
      } else if (this.#attempt === 0) {
        observer.log("warn", `Cannot reach the primary at ${remote}: ${error.message}; serving the last known config and retrying`);
      }
      this.#scheduleReconnect();
    });
  }

  async #hello(connection: RpcConnection, identity: PeerIdentity, remote: string): Promise<void> {
    const { observer, node, syncIntervalSeconds } = this.options;
    let digest: string | null = null;
    try {
      digest = this.options.replica.currentDigest();
    } catch (error) {
      observer.log("error", `Cannot read the local service files: ${(error as Error).message}`);
    }
    try {
      const answer = (await connection.request("config.hello", { node, digest })) as { digest?: unknown };
      this.#primaryDigest = typeof answer?.digest === "string" ? answer.digest : null;
    } catch (error) {
      observer.log("warn", `The primary did not answer config.hello: ${(error as Error).message}`);
      connection.close("no answer to config.hello");
      return;
    }
    this.#attempt = 0;
    if (identity.cn !== this.#peerName) {
      observer.peerGone(this.#peerName);
      this.#peerName = identity.cn;
    }
    observer.connected(identity.cn, true);
    observer.audit("controlplane_connected", "info", `Connected to the primary ${identity.cn} at ${remote}`, { digest, ...peerFields(identity, remote) });
    if (this.#primaryDigest === digest) this.#markSynced();
    if (this.#sync) clearInterval(this.#sync);
    this.#sync = setInterval(() => void this.#syncNow(connection), syncIntervalSeconds * 1000);
  }

  async #syncNow(connection: RpcConnection): Promise<void> {
    if (connection.closed) return;
    let digest: string | null = null;
    try {
      digest = this.options.replica.currentDigest();
    } catch {
      // asked with null: the primary answers with a full update
    }
    try {
      const answer = (await connection.request("config.sync", { digest })) as { digest?: unknown };
      this.#primaryDigest = typeof answer?.digest === "string" ? answer.digest : null;
      if (this.#primaryDigest === digest) this.#markSynced();
    } catch (error) {
      this.options.observer.log("warn", `config.sync failed: ${(error as Error).message}`);
    }
  }

  #markSynced(): void {
    this.#lastSync = new Date();
    this.options.observer.synced(Date.now() / 1000);
  }

  #onRequest(identity: PeerIdentity, remote: string, updates: SlidingWindowLimiter, method: string, params: Record<string, unknown>): unknown {
    const { observer, replica, limits } = this.options;
    if (method !== "config.update") throw methodNotFound(method);
    const digest = typeof params.digest === "string" ? params.digest : null;
    const fileCount = Array.isArray(params.files) ? params.files.length : 0;
    const named = proposedPaths(params);
    try {
      if (!updates.allow("connection", this.#now())) {
        throw new ControlPlaneError(RpcCode.rateLimited, `over ${limits.max_updates_per_minute} updates per minute (max_updates_per_minute)`, { limit: limits.max_updates_per_minute });
      }
      const applied = replica.apply(params);
      observer.update(applied.status);
      this.#primaryDigest = applied.digest;
      this.#markSynced();
      if (applied.status === "applied") {
        observer.audit("controlplane_update_applied", "info", `Applied the primary's service files (${applied.written.length} written, ${applied.removed.length} removed) and reloaded`, {
          digest: applied.digest,
          files_written: applied.written,
          files_removed: applied.removed,
          ...peerFields(identity, remote),
        });
      }
      return { status: applied.status, reload_triggered: applied.reload_triggered, digest: applied.digest };
    } catch (error) {
      const refusal = error instanceof ControlPlaneError ? error : new ControlPlaneError(RpcCode.writeFailed, (error as Error).message);
      observer.update("refused");
      observer.audit("controlplane_update_refused", "warn", `Refused the primary's update (${REASONS[refusal.code]}): ${refusal.message}`, {
        code: refusal.code,
        reason: REASONS[refusal.code],
        digest,
        files_count: fileCount,
        files: named,
        ...peerFields(identity, remote),
      });
      throw refusal;
    }
  }

  #onClosed(identity: PeerIdentity, remote: string, reason: string): void {
    const { observer } = this.options;
    if (this.#sync) clearInterval(this.#sync);
    this.#identity = undefined;
    observer.connected(this.#peerName, false);
    observer.audit("controlplane_disconnected", "warn", `Disconnected from the primary ${identity.cn}: ${reason}; serving the last known config`, { reason, ...peerFields(identity, remote) });
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#reconnect) return;
    this.#attempt++;
    const delay = backoffDelayMs(this.#attempt, RECONNECT_BACKOFF, this.options.random);
    this.#reconnect = setTimeout(() => {
      this.#reconnect = undefined;
      this.#connect();
    }, delay);
  }
}

const SHOWN_PATHS = 20;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The first paths a refused update named, for its audit record: bounded, control characters escaped. */
function proposedPaths(params: Record<string, unknown>): string[] {
  const paths = [
    ...(Array.isArray(params.files) ? params.files.map((file) => (file as { path?: unknown } | null)?.path) : []),
    ...(Array.isArray(params.deleted) ? params.deleted : []),
  ];
  return paths
    .filter((path): path is string => typeof path === "string")
    .slice(0, SHOWN_PATHS)
    .map((path) => (CONTROL.test(path) || path.length > 200 ? JSON.stringify(path.slice(0, 200)) : path));
}
