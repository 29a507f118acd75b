/**
 * udp_ntp: an NTPv4 client request whose transmit timestamp is a random nonce. Healthy when the reply is in server
 * mode (4), echoes the nonce as its origin timestamp, is synchronised (leap indicator not 3, stratum not 16) and has
 * a stratum from 1 to `ntp_max_stratum` [15]. Stratum 0 is a kiss-o'-death (RATE, DENY, ...): a failure.
 */

import type { Checker } from "../types.ts";
import { bytesEqual } from "./_bytes.ts";
import { randomBytes } from "./_random.ts";
import { udpExchange, type Judgement } from "./_udp.ts";
import { decodeReply, encodeRequest, kissCode, LEAP_UNSYNCHRONISED, MODE_SERVER, NtpPacketError, STRATUM_UNSYNCHRONISED } from "./ntp/packet.ts";

export const DEFAULT_NTP_MAX_STRATUM = 15;

/** Judges a reply to the request whose transmit timestamp was `nonce`. Pure. */
export function judgeNtp(bytes: Uint8Array, nonce: Uint8Array, maxStratum: number): Judgement {
  let reply;
  try {
    reply = decodeReply(bytes);
  } catch (error) {
    if (error instanceof NtpPacketError) return { ok: false, reason: error.message };
    throw error;
  }
  if (reply.mode !== MODE_SERVER) return { ok: false, reason: `reply in mode ${reply.mode}, expected 4 (server)` };
  if (reply.version < 1 || reply.version > 4) return { ok: false, reason: `reply has NTP version ${reply.version}` };
  if (!bytesEqual(reply.origin, nonce)) return { ok: false, reason: "reply's origin timestamp is not this request's transmit timestamp" };
  if (reply.stratum === 0) {
    const kiss = kissCode(reply.referenceId);
    // chronyd and ntpd answer stratum 0 with no kiss code, leap 3, while they are not synchronised themselves.
    if (kiss === undefined) return { ok: false, reason: `server not synchronised (stratum 0, leap indicator ${reply.leap})` };
    return { ok: false, reason: `kiss-o'-death ${kiss} (stratum 0)` };
  }
  if (reply.leap === LEAP_UNSYNCHRONISED) return { ok: false, reason: `server not synchronised (leap indicator 3, stratum ${reply.stratum})` };
  if (reply.stratum >= STRATUM_UNSYNCHRONISED) return { ok: false, reason: `server not synchronised (stratum ${reply.stratum})` };
  if (reply.stratum > maxStratum) return { ok: false, reason: `stratum ${reply.stratum}, above ntp_max_stratum ${maxStratum}` };
  if (reply.transmit.every((b) => b === 0)) return { ok: false, reason: "reply has no transmit timestamp" };
  return { ok: true, reason: `stratum ${reply.stratum}` };
}

export const udpNtpChecker: Checker = {
  type: "udp_ntp",
  probe(target, signal) {
    const nonce = randomBytes(8);
    const maxStratum = target.health.ntp_max_stratum ?? DEFAULT_NTP_MAX_STRATUM;
    return udpExchange(target, signal, { request: encodeRequest(nonce), judge: (data) => judgeNtp(data, nonce, maxStratum) });
  },
};
