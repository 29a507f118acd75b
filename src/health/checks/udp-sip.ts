/**
 * udp_sip: a SIP OPTIONS request over UDP with its own branch, Call-ID and CSeq. Healthy on a final response to
 * that very request (same top Via branch, Call-ID and CSeq) whose status is in `sip_expect_status` [200];
 * provisional responses (1xx) are waited through. `sip_uri` defaults to `sip:ping@<address>:<port>` of the probe
 * (IPv6 in brackets).
 */

import { hostPort } from "../../config/model.ts";
import type { Checker, ProbeTarget } from "../types.ts";
import { utf8 } from "./_bytes.ts";
import { randomHex, randomU16 } from "./_random.ts";
import { formatRanges, inRanges, type StatusRanges } from "./_ranges.ts";
import { udpExchange, type Judgement } from "./_udp.ts";
import { decodeResponse, encodeOptions, mismatch, SIP_MAGIC_COOKIE, SipMessageError, type OptionsRequest } from "./sip/message.ts";

export const DEFAULT_SIP_EXPECT_STATUS: StatusRanges = [[200, 200]];

export function defaultSipUri(target: Pick<ProbeTarget, "address" | "port">): string {
  return `sip:ping@${hostPort(target.address, target.port)}`;
}

/** Judges one datagram received for `request`. Pure. */
export function judgeSip(bytes: Uint8Array, request: Pick<OptionsRequest, "branch" | "callId" | "cseq">, expected: StatusRanges): Judgement {
  let response;
  try {
    response = decodeResponse(bytes);
  } catch (error) {
    if (error instanceof SipMessageError) return { ok: false, reason: error.message };
    throw error;
  }
  const problem = mismatch(response, request);
  if (problem !== undefined) return { ok: false, reason: `SIP ${response.status} does not answer this request: ${problem}` };
  const status = `SIP ${response.status}${response.reasonPhrase ? ` ${response.reasonPhrase}` : ""}`;
  if (response.status < 200) return { provisional: status };
  if (!inRanges(response.status, expected)) return { ok: false, reason: `${status}, expected ${formatRanges(expected)}` };
  return { ok: true, reason: status };
}

export const udpSipChecker: Checker = {
  type: "udp_sip",
  probe(target, signal) {
    const ids = { branch: `${SIP_MAGIC_COOKIE}${randomHex(12)}`, callId: `${randomHex(16)}@lbctl`, cseq: randomU16() + 1 };
    const uri = target.health.sip_uri ?? defaultSipUri(target);
    const expected = target.health.sip_expect_status ?? DEFAULT_SIP_EXPECT_STATUS;
    return udpExchange(target, signal, {
      request: (local) => utf8(encodeOptions({ ...ids, uri, via: local, fromTag: randomHex(8) })),
      judge: (data) => judgeSip(data, ids, expected),
    });
  },
};

