/**
 * GELF over UDP (I/O shell): one connected socket, opened in the background; sends never wait. While the socket
 * opens, a bounded number of messages wait; a failed open is retried on a later send, at most every 30 s.
 */

import { lookup } from "node:dns/promises";
import type { GelfTarget, GelfTransport } from "./transport.ts";

const PENDING_MAX = 1000;
const REOPEN_AFTER_MS = 30_000;

export function udpTransport(target: GelfTarget, onError: (message: string) => void): GelfTransport {
  let socket: Awaited<ReturnType<typeof open>> | undefined;
  let opening = false;
  let failedAt = Number.NEGATIVE_INFINITY;
  let closed = false;
  const pending: Uint8Array[][] = [];

  async function open() {
    const { address, family } = await lookup(target.host);
    return Bun.udpSocket({
      hostname: family === 6 ? "::" : "0.0.0.0",
      port: 0,
      connect: { hostname: address, port: target.port },
      socket: { error: (_socket, error) => onError(`GELF UDP to ${target.host}:${target.port}: ${error.message}`) },
    });
  }

  function start(): void {
    if (opening || closed || performance.now() - failedAt < REOPEN_AFTER_MS) return;
    opening = true;
    open().then(
      (s) => {
        opening = false;
        if (closed) return s.close();
        socket = s;
        for (const frames of pending.splice(0)) write(frames);
      },
      (error: Error) => {
        opening = false;
        failedAt = performance.now();
        pending.length = 0;
        onError(`GELF UDP to ${target.host}:${target.port}: ${error.message}`);
      },
    );
  }

  function write(frames: Uint8Array[]): void {
    if (!socket) return;
    const sent = socket.sendMany(frames);
    if (sent < frames.length) onError(`GELF UDP to ${target.host}:${target.port}: the send buffer is full, a message was dropped`);
  }

  return {
    send(frames) {
      if (closed) return;
      if (socket) return write(frames);
      if (pending.length < PENDING_MAX) pending.push(frames);
      start();
    },
    close() {
      closed = true;
      socket?.close();
      socket = undefined;
    },
  };
}
