/**
 * NTP packets of the udp_ntp check (RFC 5905 §7.3): a 48-byte client request, and the header of a reply. Pure. A
 * reply shorter than 48 bytes throws NtpPacketError; extension fields and a MAC after the header are ignored.
 *
 *    0: LI(2) VN(3) Mode(3) | 1: stratum | 2: poll | 3: precision
 *    4: root delay   8: root dispersion   12: reference ID
 *   16: reference timestamp   24: origin timestamp   32: receive timestamp   40: transmit timestamp (8 bytes each)
 */

export const NTP_PACKET_BYTES = 48;
export const MODE_CLIENT = 3;
export const MODE_SERVER = 4;
export const LEAP_UNSYNCHRONISED = 3;
/** Stratum 16 means unsynchronised (RFC 5905 §7.3). */
export const STRATUM_UNSYNCHRONISED = 16;

export class NtpPacketError extends Error {
  readonly code = "E_NTP_MALFORMED";

  constructor(message: string) {
    super(message);
    this.name = "NtpPacketError";
  }
}

/**
 * A version 4 client request whose transmit timestamp is `transmit` (8 bytes), every other field zero. The server
 * copies the transmit timestamp into its reply's origin timestamp, so a random one works as a nonce; RFC 9109 also
 * recommends that clients not reveal their clock there.
 */
export function encodeRequest(transmit: Uint8Array): Uint8Array {
  if (transmit.length !== 8) throw new RangeError(`An NTP timestamp has 8 bytes, got ${transmit.length}`);
  const out = new Uint8Array(NTP_PACKET_BYTES);
  out[0] = (0 << 6) | (4 << 3) | MODE_CLIENT;
  out.set(transmit, 40);
  return out;
}

export interface NtpReply {
  leap: number;
  version: number;
  mode: number;
  stratum: number;
  /** The reference ID; in a kiss-o'-death (stratum 0) four ASCII letters, the kiss code (RATE, DENY, RSTR...). */
  referenceId: Uint8Array;
  origin: Uint8Array;
  transmit: Uint8Array;
}

export function decodeReply(bytes: Uint8Array): NtpReply {
  if (bytes.length < NTP_PACKET_BYTES) throw new NtpPacketError(`malformed NTP reply: ${bytes.length} bytes, shorter than the 48-byte header`);
  const first = bytes[0] as number;
  return {
    leap: first >> 6,
    version: (first >> 3) & 7,
    mode: first & 7,
    stratum: bytes[1] as number,
    referenceId: bytes.slice(12, 16),
    origin: bytes.slice(24, 32),
    transmit: bytes.slice(40, 48),
  };
}

/** The kiss code of a kiss-o'-death reply: its reference ID when that is four printable ASCII characters. */
export function kissCode(referenceId: Uint8Array): string | undefined {
  if (referenceId.length !== 4 || !referenceId.every((b) => b >= 0x20 && b < 0x7f)) return undefined;
  const code = String.fromCharCode(...referenceId).trimEnd();
  return code.length > 0 ? code : undefined;
}
