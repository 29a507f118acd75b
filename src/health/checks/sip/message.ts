/**
 * The SIP messages of the udp_sip check (RFC 3261): an OPTIONS request, and the parts of a response that tie it to
 * that request (status line, top Via branch, Call-ID, CSeq). Pure: no sockets. A response that does not parse
 * throws SipMessageError with a message for the operator.
 */

import { printable } from "../_bytes.ts";

export const SIP_MAGIC_COOKIE = "z9hG4bK";
/** More header lines than any real OPTIONS response has; beyond it the datagram is not worth parsing. */
const MAX_HEADER_LINES = 256;

export class SipMessageError extends Error {
  readonly code = "E_SIP_MALFORMED";

  constructor(message: string) {
    super(message);
    this.name = "SipMessageError";
  }
}

export interface OptionsRequest {
  /** Request-URI and To: `sip_uri`. */
  uri: string;
  /** Where responses go (our socket): the Via sent-by. The local address of the connected socket. */
  via: { address: string; port: number };
  /** Starts with the RFC 3261 magic cookie, unique per request. */
  branch: string;
  callId: string;
  fromTag: string;
  cseq: number;
}

/** The request datagram. Every value was produced by us or validated by the config (sip_uri has no spaces). */
export function encodeOptions(request: OptionsRequest): string {
  const host = request.via.address.includes(":") ? `[${request.via.address}]` : request.via.address;
  return [
    `OPTIONS ${request.uri} SIP/2.0`,
    // rport (RFC 3581): answer to the source port even if a NAT between us rewrote it.
    `Via: SIP/2.0/UDP ${host}:${request.via.port};branch=${request.branch};rport`,
    "Max-Forwards: 70",
    `From: <sip:lbctl@${host}>;tag=${request.fromTag}`,
    `To: <${request.uri}>`,
    `Call-ID: ${request.callId}`,
    `CSeq: ${request.cseq} OPTIONS`,
    "Accept: application/sdp",
    "User-Agent: lbctl health check",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

export interface SipResponse {
  status: number;
  /** Printable ASCII only, at most 64 characters. */
  reasonPhrase: string;
  /** Lower-case long header names (compact forms expanded) to their values, in order. */
  headers: Map<string, string[]>;
}

/** Compact header forms (RFC 3261 §7.3.3) of the headers the check reads. */
const COMPACT: Record<string, string> = { v: "via", i: "call-id", f: "from", t: "to", l: "content-length", m: "contact" };

export function decodeResponse(bytes: Uint8Array): SipResponse {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  const headEnd = text.search(/\r?\n\r?\n/);
  const lines = (headEnd === -1 ? text : text.slice(0, headEnd)).split(/\r?\n/);
  if (lines.length > MAX_HEADER_LINES) throw new SipMessageError(`malformed SIP response: more than ${MAX_HEADER_LINES} header lines`);
  const first = lines[0] ?? "";
  const status = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/.exec(first);
  if (status === null) {
    if (/^[A-Z]+ \S+ SIP\/2\.0$/.test(first)) throw new SipMessageError(`expected a SIP response, got a request: ${printable(first)}`);
    throw new SipMessageError(`not a SIP response: ${printable(first)}`);
  }
  const headers = new Map<string, string[]>();
  let last: { values: string[]; index: number } | undefined;
  for (const line of lines.slice(1)) {
    if (/^[ \t]/.test(line)) {
      // Folded continuation of the previous header (RFC 3261 §7.3.1).
      if (last === undefined) throw new SipMessageError("malformed SIP response: a continuation line before any header");
      last.values[last.index] = `${last.values[last.index]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) throw new SipMessageError(`malformed SIP response: header line ${printable(line)}`);
    const raw = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT[raw] ?? raw;
    const values = headers.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(name, values);
    last = { values, index: values.length - 1 };
  }
  return { status: Number(status[1]), reasonPhrase: printable(status[2] ?? "").slice(0, 64), headers };
}

/** Why `response` does not answer `request`, or undefined when it does (top Via branch, Call-ID, CSeq). */
export function mismatch(response: SipResponse, request: Pick<OptionsRequest, "branch" | "callId" | "cseq">): string | undefined {
  const via = response.headers.get("via")?.[0];
  if (via === undefined) return "the response has no Via header";
  // Several Via values may share one header line, comma-separated; the first is the top one.
  const top = via.split(",")[0] as string;
  const branch = /;\s*branch\s*=\s*([^;\s,]+)/i.exec(top)?.[1];
  if (branch !== request.branch) return `the top Via branch is ${branch === undefined ? "missing" : printable(branch)}, not this request's`;
  const callId = response.headers.get("call-id")?.[0];
  if (callId !== request.callId) return `the Call-ID is ${callId === undefined ? "missing" : printable(callId)}, not this request's`;
  const cseq = response.headers.get("cseq")?.[0];
  const match = cseq === undefined ? null : /^(\d+)\s+(\S+)$/.exec(cseq);
  if (match === null || Number(match[1]) !== request.cseq || match[2] !== "OPTIONS") {
    return `the CSeq is ${cseq === undefined ? "missing" : printable(cseq)}, not "${request.cseq} OPTIONS"`;
  }
  return undefined;
}

