/**
 * One control-plane connection over an established TLS socket: framing, requests both ways with ids, replies,
 * the message size limit (-32005 then close) and the idle timeout. Either side may send requests.
 */

import type { TLSSocket } from "node:tls";
import { ControlPlaneError, RpcCode } from "./errors.ts";
import { encodeLine, LineDecoder } from "./framing.ts";
import { decodeMessage, errorReply, request, resultReply, type RpcId } from "./rpc.ts";

export type RequestHandler = (method: string, params: Record<string, unknown>) => unknown | Promise<unknown>;

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: unknown,
  ) {
    super(message);
  }
}

export interface ConnectionOptions {
  maxMessageBytes: number;
  idleTimeoutMs: number;
  onRequest: RequestHandler;
  onClose: (reason: string) => void;
  /** A line that is not a valid message (after the error reply was sent). */
  onProtocolError?: (error: ControlPlaneError) => void;
}

export class RpcConnection {
  readonly #decoder: LineDecoder;
  readonly #pending = new Map<RpcId, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #closed = false;
  #idle: ReturnType<typeof setTimeout> | undefined;
  /** Requests are handled one at a time, in order: an update is never applied beside another. */
  #queue: Promise<void> = Promise.resolve();

  constructor(
    readonly socket: TLSSocket,
    private readonly options: ConnectionOptions,
  ) {
    this.#decoder = new LineDecoder(options.maxMessageBytes);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("close", () => this.#finish("closed by the peer"));
    socket.on("error", (error) => this.#finish(error.message));
    this.#touch();
  }

  get closed(): boolean {
    return this.#closed;
  }

  request(method: string, params: Record<string, unknown>, timeoutMs = 30_000): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error("connection closed"));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      this.#send(request(id, method, params));
    });
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref?.();
    this.#finish(reason);
  }

  #send(message: unknown): void {
    if (!this.#closed) this.socket.write(encodeLine(message));
  }

  #touch(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.close(`idle for ${this.options.idleTimeoutMs} ms`), this.options.idleTimeoutMs);
  }

  #finish(reason: string): void {
    if (this.#idle) clearTimeout(this.#idle);
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#pending.values()) pending.reject(new Error(`connection closed: ${reason}`));
    this.#pending.clear();
    this.socket.destroy();
    this.options.onClose(reason);
  }

  #onData(chunk: Buffer): void {
    this.#touch();
    for (const event of this.#decoder.push(chunk)) {
      if (event.type === "oversize") {
        const error = new ControlPlaneError(RpcCode.messageTooLarge, `message over ${this.options.maxMessageBytes} bytes (max_message_bytes); closing`, { limit: this.options.maxMessageBytes });
        this.#send(errorReply(null, error));
        this.options.onProtocolError?.(error);
        this.close("message too large");
        return;
      }
      this.#onLine(event.line);
    }
  }

  #onLine(line: string): void {
    const message = decodeMessage(line);
    switch (message.kind) {
      case "invalid":
        this.#send(errorReply(message.id, message.error));
        this.options.onProtocolError?.(message.error);
        return;
      case "result":
        this.#pending.get(message.id)?.resolve(message.result);
        this.#pending.delete(message.id);
        return;
      case "error":
        if (message.id !== null) {
          this.#pending.get(message.id)?.reject(new RpcError(message.error.code, message.error.message, message.error.data));
          this.#pending.delete(message.id);
        }
        return;
      case "request": {
        const { id, method, params } = message;
        this.#queue = this.#queue.then(async () => {
          try {
            const result = await this.options.onRequest(method, params);
            if (id !== undefined) this.#send(resultReply(id, result));
          } catch (error) {
            const refusal = error instanceof ControlPlaneError ? error : new ControlPlaneError(RpcCode.writeFailed, (error as Error).message);
            if (id !== undefined) this.#send(errorReply(id, refusal));
          }
        });
      }
    }
  }
}

export const methodNotFound = (method: string) => new ControlPlaneError(RpcCode.methodNotFound, `unknown method ${method}`);
