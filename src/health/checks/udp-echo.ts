/**
 * udp_echo: sends `<payload>:<nonce>` and requires exactly `<expect>:<nonce>` back from the target's address and
 * port within timeout_ms. The nonce (`lbctl-<unix-nanos>-<16 hex>`) is new for every probe, so only a live echo
 * of this very probe counts: not a cached answer, not silence (keepalived's UDP_CHECK without a reply, #2477).
 *
 * `nonce: false` sends the payload alone and expects `expect` alone (servers that answer fixed bytes).
 * `payload_hex`/`expect_hex` give binary bytes; the nonce is still appended as ASCII after a colon.
 * Defaults: payload "PING", expect = the payload (its bytes, whichever key gave them).
 */

import type { Checker, HealthFile } from "../types.ts";
import { bytesEqual, concatBytes, fromHex, preview, startsWith, utf8 } from "./_bytes.ts";
import { randomHex, unixNanos } from "./_random.ts";
import { udpExchange, type Judgement } from "./_udp.ts";

export const DEFAULT_ECHO_PAYLOAD = "PING";

export interface EchoBytes {
  payload: Uint8Array;
  expect: Uint8Array;
  nonce: boolean;
}

/** The bytes a health block asks for, defaults applied. Pure. */
export function echoBytes(health: HealthFile): EchoBytes {
  const payload = health.payload_hex !== undefined ? fromHex(health.payload_hex) : utf8(health.payload ?? DEFAULT_ECHO_PAYLOAD);
  const expect = health.expect_hex !== undefined ? fromHex(health.expect_hex) : health.expect !== undefined ? utf8(health.expect) : payload;
  return { payload, expect, nonce: health.nonce !== false };
}

/** `lbctl-<unix-nanos>-<16 hex>`: unique per probe, unguessable by anyone who did not see the request. */
export function echoNonce(): string {
  return `lbctl-${unixNanos()}-${randomHex(8)}`;
}

/** The request datagram and the only reply that counts. Pure. */
export function echoExchange(bytes: EchoBytes, nonce: string | undefined): { request: Uint8Array; reply: Uint8Array } {
  if (nonce === undefined) return { request: bytes.payload, reply: bytes.expect };
  const suffix = utf8(`:${nonce}`);
  return { request: concatBytes(bytes.payload, suffix), reply: concatBytes(bytes.expect, suffix) };
}

/** Compares a reply with the expected bytes; the reason says how it differs. Pure. */
export function judgeEcho(reply: Uint8Array, expected: Uint8Array, expectBytes: Uint8Array): Judgement {
  if (bytesEqual(reply, expected)) return { ok: true, reason: `echo of ${expected.length} bytes` };
  // A server that answers `expect` without (or with another) nonce is no echo of this probe: say so plainly.
  const hint = expected.length > expectBytes.length && startsWith(reply, expectBytes) ? " (wrong or missing nonce)" : "";
  return { ok: false, reason: `reply does not match${hint}: got ${preview(reply)} (${reply.length} bytes), expected ${preview(expected)} (${expected.length} bytes)` };
}

/** A udp_echo checker; it keeps the request bytes of each health block, which serves every probe of a service. */
export function createUdpEchoChecker(): Checker {
  const prepared = new WeakMap<HealthFile, EchoBytes>();
  return {
    type: "udp_echo",
    probe(target, signal) {
      let bytes = prepared.get(target.health);
      if (bytes === undefined) prepared.set(target.health, (bytes = echoBytes(target.health)));
      const { request, reply } = echoExchange(bytes, bytes.nonce ? echoNonce() : undefined);
      const expectBytes = bytes.expect;
      return udpExchange(target, signal, { request, judge: (data) => judgeEcho(data, reply, expectBytes) });
    },
  };
}
