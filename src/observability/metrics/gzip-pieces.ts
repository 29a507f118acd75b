/**
 * One gzip member (RFC 1952) made of pieces compressed separately: each family of the exposition is compressed
 * once per change and its compressed bytes reused by every scrape until it changes again.
 *
 * Each piece is raw DEFLATE (RFC 1951) from a fresh compressor, ended by a sync flush: whole blocks, none marked
 * final, ending on a byte boundary, and no back-reference before the piece's own start. Such pieces can follow each
 * other anywhere in one DEFLATE stream; the last piece of a member is compressed with a final block instead. The
 * member's trailer takes the CRC-32 of the whole text, combined from the pieces' CRCs.
 *
 * A member made of several gzip members would be simpler, but curl (and with it many scrapers) stops after the
 * first one.
 */

import { constants, deflateRaw, deflateRawSync } from "node:zlib";
import { crc32Combine } from "./crc32-combine.ts";

export interface DeflatedPiece {
  /** Raw DEFLATE blocks of `length` bytes of text. */
  readonly deflated: Uint8Array;
  readonly crc: number;
  readonly length: number;
}

/**
 * zlib's fastest level: 13 MB of exposition in about 70 ms of one core for a ~7× smaller body. Level 6 gains
 * another 40 % for 4–5× the time, spent again at every stats cycle.
 */
const LEVEL = 1;

/** A piece more can follow; compressed on libuv's thread pool, off the daemon loop. */
export function deflatePiece(text: Uint8Array): Promise<DeflatedPiece> {
  return new Promise((resolve, reject) => {
    deflateRaw(text, { level: LEVEL, finishFlush: constants.Z_SYNC_FLUSH }, (error, deflated) => {
      if (error) reject(error);
      else resolve({ deflated, crc: Bun.hash.crc32(text) >>> 0, length: text.length });
    });
  });
}

/** The piece that ends a member (a small one: compressed on the spot). */
export function deflateLastPiece(text: Uint8Array): DeflatedPiece {
  return { deflated: deflateRawSync(text, { level: LEVEL }), crc: Bun.hash.crc32(text) >>> 0, length: text.length };
}

const HEADER = new Uint8Array([
  0x1f, 0x8b, // magic
  8, // DEFLATE
  0, // no flags: no name, comment or extra field
  0, 0, 0, 0, // no modification time
  0, // no extra flags
  3, // made on Unix
]);

/** One gzip member of `pieces`, all made by deflatePiece except the last (deflateLastPiece). */
export function gzipMember(pieces: readonly DeflatedPiece[]): Uint8Array {
  let size = HEADER.length + 8;
  let crc = 0;
  let length = 0;
  for (const piece of pieces) {
    size += piece.deflated.length;
    crc = crc32Combine(crc, piece.crc, piece.length);
    length += piece.length;
  }
  const out = Buffer.allocUnsafe(size);
  out.set(HEADER, 0);
  let at = HEADER.length;
  for (const piece of pieces) {
    out.set(piece.deflated, at);
    at += piece.deflated.length;
  }
  out.writeUInt32LE(crc, at);
  // ISIZE: the text's length modulo 2^32.
  out.writeUInt32LE(length % 2 ** 32, at + 4);
  return out;
}
