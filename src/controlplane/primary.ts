/**
 * The primary: watches its service files, publishes a set only when the whole config validates (else counts it
 * `held`), and serves any number of secondaries over mutual TLS 1.3, each getting a full update on connect (when
 * its digest differs) and after every change.
 */

import { watch, type FSWatcher } from "node:fs";
import type { Socket } from "node:net";
import { createServer, type Server, type TLSSocket } from "node:tls";
import { loadConfig } from "../config/load.ts";
import { bundleDigest } from "./digest.ts";
import { ControlPlaneError, RpcCode } from "./errors.ts";
import { RpcConnection, methodNotFound, RpcError } from "./connection.ts";
import { clientAllowed, identityOf, peerFields, pinMatches, type PeerIdentity } from "./identity.ts";
import { idleTimeoutMs, type ControlPlaneLimits } from "./limits.ts";
import type { ControlPlaneObserver, ControlPlaneStatus, PeerStatus } from "./observer.ts";
import { SlidingWindowLimiter } from "./rate-limiter.ts";
import { mainFolder, readReplicatedSet, type SetFile } from "./replica-files.ts";
import { tlsOptions, type TlsMaterial } from "./tls-material.ts";

/** Editors write in several steps (truncate, write, rename): one publish after the burst. */
export const WATCH_DEBOUNCE_MS = 100;

export interface PrimaryOptions {
  mainFile: string;
  node: string;
  listen: { host: string; port: number };
  tls: TlsMaterial;
  allowedClients: readonly string[];
  pins: readonly string[];
  limits: ControlPlaneLimits;
  syncIntervalSeconds: number;
  observer: ControlPlaneObserver;
  now?: () => number;
}

interface Peer {
  connection: RpcConnection;
  identity: PeerIdentity;
  remote: string;
  helloDone: boolean;
  digest: string | null;
  lastSync: Date | null;
}

interface Published {
  digest: string;
  files: Map<string, SetFile>;
  force: boolean;
}

export class Primary {
  #server: Server | undefined;
  #watcher: FSWatcher | undefined;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #published: Published | undefined;
  readonly #peers = new Set<Peer>();
  readonly #connections: SlidingWindowLimiter;
  readonly #now: () => number;
  #forceNext = false;

  constructor(private readonly options: PrimaryOptions) {
    this.#connections = new SlidingWindowLimiter(options.limits.max_connections_per_minute, 60_000);
    this.#now = options.now ?? (() => performance.now());
  }

  get digest(): string | undefined {
    return this.#published?.digest;
  }

  async start(): Promise<void> {
    const { options } = this;
    options.observer.started("primary", options.tls.expiry);
    this.refresh();
    const server = createServer({ ...tlsOptions(options.tls), requestCert: true, rejectUnauthorized: true });
    server.on("connection", (socket: Socket) => this.#onTcp(socket));
    server.on("secureConnection", (socket: TLSSocket) => this.#onSecure(socket));
    server.on("tlsClientError", (error: Error & { code?: string }, socket: TLSSocket) => {
      options.observer.audit("controlplane_handshake_refused", "warn", `TLS handshake refused: ${error.message}`, {
        reason: error.code ?? error.message,
        ...peerFields(presentedIdentity(socket), `${socket.remoteAddress}:${socket.remotePort}`),
      });
    });
    await new Promise<void>((resolveListen, reject) => {
      server.once("error", reject);
      server.listen(options.listen.port, options.listen.host, () => {
        server.off("error", reject);
        resolveListen();
      });
    });
    this.#server = server;
    this.#watcher = watch(mainFolder(options.mainFile), { recursive: true }, () => this.#schedule());
  }

  /** The listening port (tests listen on port 0). */
  get port(): number {
    const address = this.#server?.address();
    return typeof address === "object" && address ? address.port : 0;
  }

  /** The primary's operator forced its own reload past a change limit: the next publish carries `force: true`. */
  markForced(): void {
    this.#forceNext = true;
    this.refresh();
  }

  /** Re-reads the service files; publishes them when the whole config validates and the set changed. */
  refresh(): void {
    const { mainFile, observer } = this.options;
    let files: Map<string, SetFile>;
    const loaded = loadConfig(mainFile);
    if (!loaded.ok) {
      observer.update("held");
      observer.audit("controlplane_update_held", "warn", `Service files not replicated: the config does not validate (${loaded.issues.length} error(s)); secondaries keep the last good set`, {
        errors: loaded.issues.slice(0, 5).map((issue) => `${issue.file}:${issue.line}: ${issue.path} ${issue.message}`),
      });
      return;
    }
    try {
      files = readReplicatedSet(mainFile, loaded.config.main.include);
    } catch (error) {
      observer.log("error", `Cannot read the service files to replicate: ${(error as Error).message}`);
      return;
    }
    const digest = bundleDigest([...files].map(([path, file]) => ({ path, checksum: file.checksum })));
    if (digest === this.#published?.digest && !this.#forceNext) return;
    this.#published = { digest, files, force: this.#forceNext };
    this.#forceNext = false;
    for (const peer of this.#peers) if (peer.helloDone) void this.#push(peer);
  }

  async stop(): Promise<void> {
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#watcher?.close();
    for (const peer of this.#peers) peer.connection.close("primary stopping");
    await new Promise<void>((done) => (this.#server ? this.#server.close(() => done()) : done()));
  }

  status(): ControlPlaneStatus {
    const peers: PeerStatus[] = [...this.#peers].map((peer) => ({
      peer: peer.identity.cn,
      address: peer.remote,
      connected: !peer.connection.closed,
      last_sync: peer.lastSync?.toISOString() ?? null,
      digest: peer.digest,
    }));
    return { mode: "primary", digest: this.#published?.digest ?? null, peers };
  }

  #connectedNamed(cn: string): boolean {
    return [...this.#peers].some((peer) => peer.identity.cn === cn && peer.helloDone && !peer.connection.closed);
  }

  #schedule(): void {
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.refresh(), WATCH_DEBOUNCE_MS);
  }

  #onTcp(socket: Socket): void {
    const source = socket.remoteAddress ?? "unknown";
    const now = this.#now();
    this.#connections.prune(now);
    if (!this.#connections.allow(source, now)) {
      this.options.observer.audit("controlplane_handshake_refused", "warn", `Connection refused: over ${this.options.limits.max_connections_per_minute} connections per minute from ${source}`, {
        reason: "max_connections_per_minute",
        remote_address: source,
      });
      socket.destroy();
      return;
    }
    // The handshake and the first config.hello must both finish in time; #onSecure clears this once hello is in.
    const timer = setTimeout(() => socket.destroy(), this.options.limits.handshake_timeout_ms);
    (socket as Socket & { lbctlHandshakeTimer?: ReturnType<typeof setTimeout> }).lbctlHandshakeTimer = timer;
    socket.once("close", () => clearTimeout(timer));
  }

  #onSecure(socket: TLSSocket): void {
    const { observer, allowedClients, pins, limits } = this.options;
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const raw = socket.getPeerCertificate()?.raw;
    if (!raw) {
      socket.destroy();
      return;
    }
    const identity = identityOf(raw);
    const refuse = (reason: string, message: string) => {
      observer.audit("controlplane_handshake_refused", "warn", message, { reason, ...peerFields(identity, remote) });
      socket.destroy();
    };
    if (!clientAllowed(identity, allowedClients)) return refuse("not_allowed", `Client ${identity.cn} refused: not in tls.allowed_clients`);
    if (!pinMatches(identity, pins)) return refuse("pin_mismatch", `Client ${identity.cn} refused: its key matches no tls.pin_sha256`);

    const raw_socket = (socket as unknown as { _parent?: Socket })._parent ?? socket;
    const handshakeTimer = (raw_socket as Socket & { lbctlHandshakeTimer?: ReturnType<typeof setTimeout> }).lbctlHandshakeTimer;
    const helloTimer = setTimeout(() => peer.connection.close("no config.hello in time"), limits.handshake_timeout_ms);
    const peer: Peer = {
      identity,
      remote,
      helloDone: false,
      digest: null,
      lastSync: null,
      connection: new RpcConnection(socket, {
        maxMessageBytes: limits.max_message_bytes,
        idleTimeoutMs: idleTimeoutMs(this.options.syncIntervalSeconds),
        onRequest: (method, params) => this.#onRequest(peer, method, params, () => {
          clearTimeout(helloTimer);
          if (handshakeTimer) clearTimeout(handshakeTimer);
        }),
        onClose: (reason) => {
          clearTimeout(helloTimer);
          this.#peers.delete(peer);
          // The same secondary may have reconnected already: it stays connected while any of its connections is.
          if (peer.helloDone) observer.connected(identity.cn, this.#connectedNamed(identity.cn));
          if (peer.helloDone) observer.audit("controlplane_disconnected", "warn", `Secondary ${identity.cn} disconnected: ${reason}`, { reason, ...peerFields(identity, remote) });
        },
        onProtocolError: (error) => observer.log("warn", `Secondary ${identity.cn} (${remote}) sent an invalid message: ${error.message}`),
      }),
    };
    this.#peers.add(peer);
  }

  async #onRequest(peer: Peer, method: string, params: Record<string, unknown>, helloReceived: () => void): Promise<unknown> {
    const { observer, node } = this.options;
    const published = this.#published;
    if (method === "config.hello") {
      if (typeof params.node !== "string" || (params.digest !== null && typeof params.digest !== "string")) {
        throw new ControlPlaneError(RpcCode.invalidParams, "config.hello needs node (string) and digest (string or null)");
      }
      helloReceived();
      const first = !peer.helloDone;
      peer.helloDone = true;
      peer.digest = params.digest as string | null;
      if (first) {
        observer.connected(peer.identity.cn, true);
        observer.audit("controlplane_connected", "info", `Secondary ${peer.identity.cn} connected (node ${params.node})`, { peer_node: params.node as string, digest: peer.digest, ...peerFields(peer.identity, peer.remote) });
      }
      if (published && peer.digest !== published.digest) setTimeout(() => void this.#push(peer), 0);
      return { node, digest: published?.digest ?? bundleDigest([]) };
    }
    if (!peer.helloDone) throw new ControlPlaneError(RpcCode.invalidRequest, "config.hello must be the first message");
    if (method === "config.sync") {
      const digest = params.digest;
      if (digest !== null && typeof digest !== "string") throw new ControlPlaneError(RpcCode.invalidParams, "config.sync needs digest (string or null)");
      peer.digest = digest;
      if (published && digest !== published.digest) setTimeout(() => void this.#push(peer), 0);
      else {
        peer.lastSync = new Date();
        observer.synced(Date.now() / 1000);
      }
      return { digest: published?.digest ?? bundleDigest([]) };
    }
    throw methodNotFound(method);
  }

  async #push(peer: Peer): Promise<void> {
    const published = this.#published;
    if (!published || peer.connection.closed) return;
    const { observer } = this.options;
    const files = [...published.files].map(([path, file]) => ({ path, content: Buffer.from(file.content).toString("base64"), checksum: file.checksum }));
    const fields = { digest: published.digest, files: [...published.files.keys()], force: published.force, ...peerFields(peer.identity, peer.remote) };
    observer.audit("controlplane_update_pushed", "info", `Pushing ${files.length} service file(s) to ${peer.identity.cn}`, fields);
    try {
      const result = (await peer.connection.request("config.update", { digest: published.digest, full: true, base: null, force: published.force, files, deleted: [] })) as { status?: string; digest?: string };
      peer.digest = typeof result?.digest === "string" ? result.digest : published.digest;
      peer.lastSync = new Date();
      if (peer.digest === published.digest) observer.synced(Date.now() / 1000);
      observer.log("info", `Secondary ${peer.identity.cn}: ${result?.status ?? "answered"} (${published.digest.slice(0, 12)})`);
    } catch (error) {
      const detail = error instanceof RpcError ? `error ${error.code}: ${error.message}` : (error as Error).message;
      observer.log("warn", `Secondary ${peer.identity.cn} did not apply ${published.digest.slice(0, 12)}: ${detail}`);
    }
  }
}

/** The certificate a refused client presented, when the handshake got that far (wrong CA, expired, wrong EKU). */
function presentedIdentity(socket: TLSSocket): PeerIdentity | undefined {
  try {
    const raw = socket.getPeerCertificate?.()?.raw;
    return raw ? identityOf(raw) : undefined;
  } catch {
    return undefined;
  }
}
