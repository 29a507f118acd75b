/** Rogue peers for the attack tests: real TLS endpoints that speak (or abuse) the control plane's protocol. */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect, createServer, type Server, type TLSSocket } from "node:tls";

export interface Material {
  cert: string;
  key: string;
  ca: string;
}

export function material(dir: string, cert: string, key: string, ca = "ca.crt"): Material {
  return { cert: readFileSync(join(dir, cert), "utf8"), key: readFileSync(join(dir, key), "utf8"), ca: readFileSync(join(dir, ca), "utf8") };
}

/** A line-based peer over an open TLS socket. */
export class Wire {
  #buffer = "";
  readonly #waiters: ((line: string) => void)[] = [];
  readonly lines: string[] = [];
  closed: Promise<void>;

  /** answerSync: act as a primary that answers the secondary's periodic config.sync at once (not queued). */
  constructor(
    readonly socket: TLSSocket,
    answerSync = false,
  ) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.#buffer += chunk;
      let newline: number;
      while ((newline = this.#buffer.indexOf("\n")) >= 0) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        if (answerSync && line.includes('"config.sync"')) {
          const request = JSON.parse(line);
          this.send({ jsonrpc: "2.0", id: request.id, result: { digest: request.params.digest } });
          continue;
        }
        const waiter = this.#waiters.shift();
        if (waiter) waiter(line);
        else this.lines.push(line);
      }
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  next(timeoutMs = 10_000): Promise<any> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no message in time")), timeoutMs);
      this.#waiters.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      });
    });
  }

  send(message: unknown): void {
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  sendRaw(text: string): void {
    this.socket.write(text);
  }
}

/** Connects as a (possibly rogue) secondary; resolves with the wire, or with the TLS error. */
export function connectAsSecondary(port: number, tls: Partial<Material>): Promise<{ wire?: Wire; error?: Error }> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, ...tls, minVersion: "TLSv1.3", rejectUnauthorized: false });
    socket.once("secureConnect", () => resolve({ wire: new Wire(socket) }));
    socket.once("error", (error) => resolve({ error }));
  });
}

/** A rogue primary: accepts the secondary's connection and hands the wire to the test. */
export function roguePrimary(port: number, tls: Material): { server: Server; connections: Wire[]; next(): Promise<Wire> } {
  const connections: Wire[] = [];
  const waiters: ((wire: Wire) => void)[] = [];
  const server = createServer({ ...tls, requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.3" }, (socket) => {
    const wire = new Wire(socket, true);
    const waiter = waiters.shift();
    if (waiter) waiter(wire);
    else connections.push(wire);
  });
  server.on("tlsClientError", () => {});
  server.listen(port, "127.0.0.1");
  return {
    server,
    connections,
    next: () => {
      const ready = connections.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiters.push(resolve));
    },
  };
}
