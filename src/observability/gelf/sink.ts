/**
 * Log records to a GELF server: queued as they happen, then encoded (message.ts, framing.ts) and handed to the
 * transport in batches outside the caller's turn (over TCP, one send and one write per batch; over UDP, one
 * datagram per message, as GELF requires). The queue is bounded: records that
 * find it full are dropped, counted (`queue.onDropped`) and reported by a GELF message of their own.
 */

import { hostname } from "node:os";
import { DEFAULT_LOG_BATCH_SIZE, DEFAULT_LOG_QUEUE_CAPACITY, LogQueue } from "../log-queue.ts";
import type { LogRecord, RecordSink } from "../logger.ts";
import { randomMessageId, tcpFrame, udpDatagrams } from "./framing.ts";
import { encodeGelf, gelfMessage, type GelfContext } from "./message.ts";
import { tcpTransport } from "./tcp.ts";
import type { GelfTarget, GelfTransport } from "./transport.ts";
import { udpTransport } from "./udp.ts";

export interface GelfSinkOptions {
  server: GelfTarget;
  protocol: "udp" | "tcp";
  facility: string;
  node?: string;
  /** The messages' `host`; default: this machine's name. */
  sourceHost?: string;
  /** Failures to report (the caller rate-limits them, and never logs them back to GELF). */
  onError: (message: string) => void;
  /** Replaces the socket, for tests. */
  transport?: GelfTransport;
  /** How records wait; default: 50,000 records flushed at setImmediate, drops not counted elsewhere. */
  queue?: { capacity: number; schedule: (flush: () => void) => void; onDropped: (count: number) => void };
}

export interface GelfSink extends RecordSink {
  /** Sends every queued record now. */
  flush(): void;
  /** Sends what is queued, then closes the transport. */
  close(): void;
}

export function gelfSink(options: GelfSinkOptions): GelfSink {
  const transport = options.transport ?? (options.protocol === "tcp" ? tcpTransport(options.server, options.onError) : udpTransport(options.server, options.onError));
  const context: GelfContext = { host: options.sourceHost ?? hostname(), facility: options.facility, ...(options.node ? { node: options.node } : {}) };
  const encode = (record: LogRecord): Uint8Array | undefined => {
    try {
      return encodeGelf(gelfMessage(record, context));
    } catch (error) {
      options.onError(`GELF: ${(error as Error).message}`);
      return undefined;
    }
  };
  const queue = new LogQueue<LogRecord>({
    capacity: options.queue?.capacity ?? DEFAULT_LOG_QUEUE_CAPACITY,
    batchSize: DEFAULT_LOG_BATCH_SIZE,
    schedule: options.queue?.schedule ?? ((flush) => void setImmediate(flush)),
    onDropped: (count) => options.queue?.onDropped(count),
    dropNotice: (count) => ({ time: new Date(), level: "warn", message: "Log records dropped: the gelf queue was full", fields: { sink: "gelf", dropped: count } }),
    onWriteError: (error, records) => {
      options.queue?.onDropped(records);
      options.onError(`GELF: ${records} message(s) lost: ${(error as Error).message}`);
    },
    write(batch) {
      if (options.protocol === "tcp") {
        const frames: Uint8Array[] = [];
        for (const record of batch) {
          const json = encode(record);
          if (json !== undefined) frames.push(tcpFrame(json));
        }
        // One send per batch; the transport writes waiting frames together.
        if (frames.length > 0) transport.send(frames);
        return;
      }
      for (const record of batch) {
        const json = encode(record);
        if (json !== undefined) transport.send(udpDatagrams(json, { messageId: randomMessageId }));
      }
    },
  });
  return {
    write: (record) => void queue.push(record),
    flush: () => queue.flush(),
    close() {
      queue.flush();
      transport.close();
    },
  };
}
