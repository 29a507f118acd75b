/**
 * GELF over TCP (I/O shell): NUL-terminated frames on one connection, opened when there is something to send and
 * reopened after a failure with a growing delay (1 s to 30 s). Frames wait in a bounded queue (1 MiB): when it is
 * full the oldest are dropped, never the daemon loop blocked. A frame cut by a lost connection is dropped whole.
 * Frames that wait together are written together (one write per batch, not per message).
 */

import type { Socket } from "bun";
import type { GelfTarget, GelfTransport } from "./transport.ts";

/** At most this many bytes of waiting frames go out in one write. */
const WRITE_BYTES = 256 * 1024;

export interface TcpTransportOptions {
  maxQueueBytes?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export function tcpTransport(target: GelfTarget, onError: (message: string) => void, options: TcpTransportOptions = {}): GelfTransport {
  const maxQueueBytes = options.maxQueueBytes ?? 1024 * 1024;
  const minBackoff = options.minBackoffMs ?? 1000;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const queue: Uint8Array[] = [];
  let queued = 0;
  /** The head of the queue is a frame already partly written. */
  let headStarted = false;
  let socket: Socket<undefined> | undefined;
  let connecting = false;
  let backoff = minBackoff;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let dropped = 0;
  const where = `${target.host}:${target.port}`;

  function flush(): void {
    if (!socket) return connect();
    while (queue.length > 0) {
      if (!headStarted && queue.length > 1) coalesceHead();
      const head = queue[0]!;
      const written = socket.write(head);
      if (written < head.length) {
        queue[0] = head.subarray(Math.max(0, written));
        queued -= Math.max(0, written);
        headStarted = headStarted || written > 0;
        return; // the rest goes on drain
      }
      queue.shift();
      queued -= head.length;
      headStarted = false;
    }
  }

  /** The frames waiting at the head become one buffer (up to WRITE_BYTES): one write for a batch of messages. */
  function coalesceHead(): void {
    let count = 0;
    let length = 0;
    while (count < queue.length && (count === 0 || length + queue[count]!.length <= WRITE_BYTES)) length += queue[count++]!.length;
    if (count < 2) return;
    const merged = new Uint8Array(length);
    let offset = 0;
    for (const frame of queue.slice(0, count)) {
      merged.set(frame, offset);
      offset += frame.length;
    }
    queue.splice(0, count, merged);
  }

  function lost(): void {
    socket = undefined;
    if (headStarted && queue.length > 0) {
      queued -= queue.shift()!.length;
      headStarted = false;
    }
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (closed || retry || queue.length === 0) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect();
    }, backoff);
    backoff = Math.min(maxBackoff, backoff * 2);
  }

  function connect(): void {
    if (closed || connecting || socket || retry) return;
    connecting = true;
    Bun.connect({
      hostname: target.host,
      port: target.port,
      socket: {
        open(s) {
          connecting = false;
          if (closed) return void s.end();
          socket = s;
          backoff = minBackoff;
          flush();
        },
        drain: () => flush(),
        data() {},
        close: () => lost(),
        error: (_s, error) => onError(`GELF TCP to ${where}: ${error.message}`),
        connectError(_s, error) {
          connecting = false;
          onError(`GELF TCP to ${where}: ${error.message}`);
          scheduleReconnect();
        },
      },
    }).catch((error: Error) => {
      connecting = false;
      onError(`GELF TCP to ${where}: ${error.message}`);
      scheduleReconnect();
    });
  }

  return {
    send(frames) {
      if (closed) return;
      for (const frame of frames) {
        queue.push(frame);
        queued += frame.length;
      }
      while (queued > maxQueueBytes && queue.length > (headStarted ? 1 : 0)) {
        const index = headStarted ? 1 : 0;
        queued -= queue.splice(index, 1)[0]!.length;
        dropped++;
      }
      if (dropped > 0) {
        onError(`GELF TCP to ${where}: ${dropped} message(s) dropped, the queue is full`);
        dropped = 0;
      }
      flush();
    },
    close() {
      closed = true;
      if (retry) clearTimeout(retry);
      socket?.end();
      socket = undefined;
    },
  };
}
