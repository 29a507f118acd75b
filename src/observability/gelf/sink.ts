/** Log records to a GELF server: encode (message.ts, framing.ts) and hand the frames to a transport. */

import { hostname } from "node:os";
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
}

export interface GelfSink extends RecordSink {
  close(): void;
}

export function gelfSink(options: GelfSinkOptions): GelfSink {
  const transport = options.transport ?? (options.protocol === "tcp" ? tcpTransport(options.server, options.onError) : udpTransport(options.server, options.onError));
  const context: GelfContext = { host: options.sourceHost ?? hostname(), facility: options.facility, ...(options.node ? { node: options.node } : {}) };
  return {
    write(record: LogRecord) {
      try {
        const json = encodeGelf(gelfMessage(record, context));
        transport.send(options.protocol === "tcp" ? [tcpFrame(json)] : udpDatagrams(json, { messageId: randomMessageId }));
      } catch (error) {
        options.onError(`GELF: ${(error as Error).message}`);
      }
    },
    close: () => transport.close(),
  };
}
