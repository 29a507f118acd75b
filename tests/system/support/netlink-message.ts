/** Netlink bytes for the rtnetlink decoders' tests, little-endian as on every lbctl target. */

export const u32 = (n: number): number[] => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];

/** One netlink message (flags NLM_F_MULTI): nlmsghdr + body + attributes (type, payload), each padded to 4 bytes. */
export function message(type: number, seq: number, body: number[], attributes: [number, number[]][] = []): number[] {
  const attrs = attributes.flatMap(([t, payload]) => {
    const length = 4 + payload.length;
    const padded = [...payload, ...new Array((4 - (length % 4)) % 4).fill(0)];
    return [length & 255, length >> 8, t & 255, t >> 8, ...padded];
  });
  const length = 16 + body.length + attrs.length;
  return [...u32(length), type & 255, type >> 8, 2, 0, ...u32(seq), ...u32(0), ...body, ...attrs];
}
