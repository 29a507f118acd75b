import { describe, expect, test } from "bun:test";
import { decodeAddresses, decodeLinks, encodeGetAddresses, encodeGetLinks } from "../../src/system/rtnetlink/addresses.ts";
import { LocalAddressReader } from "../../src/system/local-addresses.ts";
import { message } from "./support/netlink-message.ts";


const ifaddrmsg = (family: number, index: number) => [family, 32, 0, 0, index & 255, 0, 0, 0];
const ifinfomsg = (index: number, flags: number) => [0, 0, 1, 0, index, 0, 0, 0, flags & 255, (flags >> 8) & 255, (flags >> 16) & 255, 0, 0, 0, 0, 0];
const DONE = (seq: number) => message(3, seq, [0, 0, 0, 0]);

describe("rtnetlink address and link dumps", () => {
  test("requests are dumps of the right type", () => {
    const request = encodeGetAddresses(7, 99);
    expect([...request.subarray(0, 8)]).toEqual([24, 0, 0, 0, 22, 0, 0x01, 0x03]);
    expect(encodeGetLinks(7, 99)[4]).toBe(18);
  });

  test("IFA_LOCAL wins over IFA_ADDRESS; IPv6 is canonical; other sequence numbers are ignored", () => {
    const datagram = new Uint8Array([
      ...message(20, 5, ifaddrmsg(2, 3), [
        [1, [10, 0, 0, 9]],
        [2, [192, 0, 2, 10]],
      ]),
      ...message(20, 5, ifaddrmsg(10, 4), [[1, [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]]]),
      ...message(20, 6, ifaddrmsg(2, 3), [[2, [198, 51, 100, 1]]]),
      ...DONE(5),
    ]);
    expect(decodeAddresses(datagram, 5)).toEqual({
      addresses: [
        { address: "192.0.2.10", index: 3 },
        { address: "2001:db8::1", index: 4 },
      ],
      done: true,
    });
  });

  test("a link is usable only when up, with carrier, and not in protodown", () => {
    const UP = 0x1;
    const LOWER_UP = 0x10000;
    const datagram = new Uint8Array([
      ...message(16, 9, ifinfomsg(1, UP | LOWER_UP)),
      ...message(16, 9, ifinfomsg(2, UP)),
      ...message(16, 9, ifinfomsg(3, UP | LOWER_UP), [[39, [1]]]),
      ...message(16, 9, ifinfomsg(4, UP | LOWER_UP), [[39, [0]]]),
    ]);
    expect(decodeLinks(datagram, 9)).toEqual({ usable: [1, 4], done: false });
  });

  test("a truncated message is a decode error, not a misread", () => {
    const bytes = new Uint8Array(message(20, 5, ifaddrmsg(2, 3), [[2, [192, 0, 2, 10]]]));
    expect(() => decodeAddresses(bytes.subarray(0, bytes.length - 2), 5)).toThrow();
  });
});

test("this host's addresses, as `ip -j addr` lists them on links that are up with carrier", () => {
  const listed = JSON.parse(Bun.spawnSync(["ip", "-j", "addr"]).stdout.toString()) as { flags: string[]; addr_info: { local: string }[] }[];
  const expected = listed
    .filter((link) => link.flags.includes("UP") && link.flags.includes("LOWER_UP"))
    .flatMap((link) => link.addr_info.map((a) => a.local));
  const reader = new LocalAddressReader();
  try {
    expect([...reader.localAddresses()].sort()).toEqual(expected.sort());
  } finally {
    reader.close();
  }
});
