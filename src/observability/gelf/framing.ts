/**
 * GELF on the wire (pure). UDP: a message larger than one datagram is gzip-compressed, and if still too large,
 * split into chunks: 0x1e 0x0f, an 8-byte message id, the chunk's sequence number and the chunk count (one byte
 * each), then the data; at most 128 chunks. TCP: the uncompressed JSON followed by a NUL byte.
 */

import { gzipSync } from "node:zlib";

export const CHUNK_MAGIC = [0x1e, 0x0f] as const;
export const CHUNK_HEADER_BYTES = 12;
export const MAX_CHUNKS = 128;
/** Datagram size Graylog recommends for paths across networks (fits a 1,500-byte MTU with headers). */
export const DEFAULT_DATAGRAM_BYTES = 1420;

export class GelfTooLargeError extends Error {
  override readonly name = "GelfTooLargeError";
}

export interface DatagramOptions {
  /** Largest datagram sent, header included. */
  datagramBytes?: number;
  /** 8 bytes identifying the message's chunks. */
  messageId: () => Uint8Array;
  gzip?: (data: Uint8Array) => Uint8Array;
}

export function udpDatagrams(json: Uint8Array, options: DatagramOptions): Uint8Array[] {
  const size = options.datagramBytes ?? DEFAULT_DATAGRAM_BYTES;
  if (json.length <= size) return [json];
  const payload = (options.gzip ?? ((data) => gzipSync(data)))(json);
  if (payload.length <= size) return [payload];
  const perChunk = size - CHUNK_HEADER_BYTES;
  const count = Math.ceil(payload.length / perChunk);
  if (count > MAX_CHUNKS) throw new GelfTooLargeError(`A GELF message of ${payload.length} compressed bytes needs ${count} chunks (at most ${MAX_CHUNKS})`);
  const id = options.messageId();
  if (id.length !== 8) throw new RangeError("A GELF message id has 8 bytes");
  const chunks: Uint8Array[] = [];
  for (let seq = 0; seq < count; seq++) {
    const data = payload.subarray(seq * perChunk, (seq + 1) * perChunk);
    const chunk = new Uint8Array(CHUNK_HEADER_BYTES + data.length);
    chunk[0] = CHUNK_MAGIC[0];
    chunk[1] = CHUNK_MAGIC[1];
    chunk.set(id, 2);
    chunk[10] = seq;
    chunk[11] = count;
    chunk.set(data, CHUNK_HEADER_BYTES);
    chunks.push(chunk);
  }
  return chunks;
}

export function tcpFrame(json: Uint8Array): Uint8Array {
  const frame = new Uint8Array(json.length + 1);
  frame.set(json);
  return frame; // the last byte stays 0: the frame's terminator
}

export function randomMessageId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(8));
}
