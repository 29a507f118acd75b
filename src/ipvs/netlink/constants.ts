/** Netlink framing numbers from <linux/netlink.h> and <linux/genetlink.h>. */

/** struct nlmsghdr: u32 len, u16 type, u16 flags, u32 seq, u32 pid. */
export const NLMSG_HDRLEN = 16;
/** struct genlmsghdr: u8 cmd, u8 version, u16 reserved. */
export const GENL_HDRLEN = 4;
/** struct nlattr: u16 len (header included, padding excluded), u16 type. */
export const NLA_HDRLEN = 4;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;

export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** Netlink rounds every message and attribute up to 4 bytes. */
export function align4(length: number): number {
  return (length + 3) & ~3;
}

/**
 * Netlink's "host order" is the CPU's. Every lbctl target is little-endian, but the codec asks rather than assumes,
 * so a big-endian build would still put the right bytes on the wire.
 */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
