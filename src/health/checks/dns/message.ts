/**
 * The DNS messages of the udp_dns check (RFC 1035 §4.1): a one-question query, and the header and question of a
 * reply. Pure: no sockets. Every read of a reply is bounds-checked; anything that does not parse throws
 * DnsMessageError, whose message is written for the operator.
 *
 *   header, 12 bytes, big-endian:
 *   +--------+--------+--------+--------+--------+--------+
 *   |   ID   | flags  |QDCOUNT |ANCOUNT |NSCOUNT |ARCOUNT |   flags: QR(1) OPCODE(4) AA TC RD RA Z(3) RCODE(4)
 *   +--------+--------+--------+--------+--------+--------+
 *   question: QNAME (labels, or a pointer in a reply), QTYPE (2 bytes), QCLASS (2 bytes)
 */

import { dnsLabels, dnsNameProblem, MAX_LABEL, MAX_NAME_WIRE } from "../../../config/dns-name.ts";

export const DNS_HEADER_BYTES = 12;
export const CLASS_IN = 1;

/** Record types of `dns_type` (schema/health.ts DNS_TYPES) and their codes. */
export const DNS_TYPE_CODES = { a: 1, ns: 2, cname: 5, soa: 6, ptr: 12, mx: 15, txt: 16, aaaa: 28, srv: 33, any: 255 } as const;

const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE ${rcode}`;
}

export function typeName(code: number): string {
  for (const [name, value] of Object.entries(DNS_TYPE_CODES)) if (value === code) return name.toUpperCase();
  return `TYPE${code}`;
}

export class DnsMessageError extends Error {
  readonly code: "E_DNS_NAME" | "E_DNS_MALFORMED";

  constructor(code: "E_DNS_NAME" | "E_DNS_MALFORMED", message: string) {
    super(message);
    this.name = "DnsMessageError";
    this.code = code;
  }
}

export interface DnsQuestion {
  /** Labels joined by dots, no trailing dot, as received (case kept), for reasons. The root is "". */
  name: string;
  /** The labels themselves (a label may hold a dot), for comparing. */
  labels: string[];
  type: number;
  class: number;
}

export interface DnsHeader {
  id: number;
  /** True in a response. */
  qr: boolean;
  opcode: number;
  aa: boolean;
  /** Truncated: the answer did not fit the datagram. */
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export interface DnsReply {
  header: DnsHeader;
  /** The first question; undefined when QDCOUNT is 0. */
  question: DnsQuestion | undefined;
}

export interface QueryOptions {
  id: number;
  name: string;
  type: number;
  /** RD: ask a recursive server to resolve the name (what `dig` does); authoritative servers ignore it. */
  recursionDesired?: boolean;
}

/** A standard query with one question of class IN. Throws DnsMessageError (E_DNS_NAME) for a name that cannot be sent. */
export function encodeQuery({ id, name, type, recursionDesired = true }: QueryOptions): Uint8Array {
  const problem = dnsNameProblem(name);
  if (problem !== undefined) throw new DnsMessageError("E_DNS_NAME", `Cannot query ${JSON.stringify(name)}: ${problem}`);
  const labels = dnsLabels(name);
  const nameBytes = labels.reduce((sum, label) => sum + label.length + 1, 1);
  const out = new Uint8Array(DNS_HEADER_BYTES + nameBytes + 4);
  const view = new DataView(out.buffer);
  view.setUint16(0, id & 0xffff);
  view.setUint16(2, recursionDesired ? 0x0100 : 0);
  view.setUint16(4, 1);
  let offset = DNS_HEADER_BYTES;
  for (const label of labels) {
    out[offset++] = label.length;
    for (let i = 0; i < label.length; i++) out[offset++] = label.charCodeAt(i);
  }
  out[offset++] = 0;
  view.setUint16(offset, type);
  view.setUint16(offset + 2, CLASS_IN);
  return out;
}

export function decodeHeader(bytes: Uint8Array): DnsHeader {
  if (bytes.length < DNS_HEADER_BYTES) throw malformed(`${bytes.length} bytes, shorter than the 12-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint16(2);
  return {
    id: view.getUint16(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    qdcount: view.getUint16(4),
    ancount: view.getUint16(6),
    nscount: view.getUint16(8),
    arcount: view.getUint16(10),
  };
}

/** The header and first question of a reply. Answers are not decoded: the check judges RCODE, ID and question. */
export function decodeReply(bytes: Uint8Array): DnsReply {
  const header = decodeHeader(bytes);
  if (header.qdcount === 0) return { header, question: undefined };
  const { labels, next } = decodeName(bytes, DNS_HEADER_BYTES);
  if (next + 4 > bytes.length) throw malformed("the question ends before its type and class");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { header, question: { name: labels.join("."), labels, type: view.getUint16(next), class: view.getUint16(next + 2) } };
}

/** Compression pointers followed at most this often: a loop of pointers must not hang the prober. */
const MAX_POINTERS = 64;

/** A name at `offset`, following compression pointers (RFC 1035 §4.1.4); `next` is the offset after it. */
export function decodeName(bytes: Uint8Array, offset: number): { labels: string[]; next: number } {
  const labels: string[] = [];
  let position = offset;
  let next: number | undefined;
  let wire = 1;
  for (let pointers = 0; ; ) {
    if (position >= bytes.length) throw malformed("a name runs past the end of the message");
    const length = bytes[position] as number;
    if (length === 0) {
      next ??= position + 1;
      break;
    }
    const kind = length & 0xc0;
    if (kind === 0xc0) {
      if (position + 1 >= bytes.length) throw malformed("a compression pointer runs past the end of the message");
      if (++pointers > MAX_POINTERS) throw malformed("a name has a loop of compression pointers");
      next ??= position + 2;
      position = ((length & 0x3f) << 8) | (bytes[position + 1] as number);
      continue;
    }
    if (kind !== 0) throw malformed(`a name has a label of unknown type 0x${kind.toString(16)}`);
    if (length > MAX_LABEL) throw malformed(`a label of ${length} bytes`);
    if (position + 1 + length > bytes.length) throw malformed("a label runs past the end of the message");
    wire += length + 1;
    if (wire > MAX_NAME_WIRE) throw malformed("a name longer than 255 bytes");
    labels.push(String.fromCharCode(...bytes.subarray(position + 1, position + 1 + length)));
    position += 1 + length;
  }
  return { labels, next };
}

/** The question's name is `name`: label by label, ASCII case ignored (RFC 4343), other bytes exact. */
export function isName(labels: readonly string[], name: string): boolean {
  const wanted = dnsLabels(name);
  if (wanted.length !== labels.length) return false;
  return wanted.every((label, i) => asciiLower(label) === asciiLower(labels[i] as string));
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

function malformed(detail: string): DnsMessageError {
  return new DnsMessageError("E_DNS_MALFORMED", `malformed DNS reply: ${detail}`);
}
