import { describe, expect, test } from "bun:test";
import { parseIp } from "../../src/config/ip.ts";
import {
  addressFamily,
  canonicalAddress,
  formatIPv4,
  formatIPv6,
  parseIPv4Into,
  parseIPv6Into,
} from "../../src/ipvs/address.ts";

function parse6(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(16);
  return parseIPv6Into(text, bytes, 0) ? bytes : undefined;
}

describe("IPv6 text", () => {
  test.each([
    ["2001:db8::1", "2001:db8::1"],
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // equal runs: the first is compressed
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group stays
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // the longest run wins
    ["fe80::", "fe80::"],
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
    ["::ffff:c000:201", "::ffff:c000:201"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
  ])("%s is %s", (input, canonical) => {
    const bytes = parse6(input);
    expect(bytes).toBeDefined();
    expect(formatIPv6(bytes as Uint8Array)).toBe(canonical);
    expect(canonicalAddress(input)).toBe(canonical);
  });

  test.each([
    "",
    ":",
    ":::",
    "1:::2",
    "1::2::3",
    ":1::",
    "1:2:3:4:5:6:7:8:",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "12345::",
    "g::1",
    "fe80::1%eth0",
    "::ffff:1.2.3",
    "1.2.3.4",
    "::1.2.3.4:5",
  ])("%p is refused", (input) => {
    expect(parse6(input)).toBeUndefined();
  });

  test("writes at an offset without touching neighbours", () => {
    const target = new Uint8Array(20).fill(0xee);
    expect(parseIPv6Into("2001:db8::2", target, 2)).toBe(true);
    expect([...target.subarray(0, 2)]).toEqual([0xee, 0xee]);
    expect(formatIPv6(target, 2)).toBe("2001:db8::2");
    expect([...target.subarray(18)]).toEqual([0xee, 0xee]);
  });
});

describe("IPv4 text", () => {
  test.each(["192.0.2.10", "0.0.0.0", "255.255.255.255", "10.0.0.1"])("%s round-trips", (input) => {
    const bytes = new Uint8Array(4);
    expect(parseIPv4Into(input, bytes, 0)).toBe(true);
    expect(formatIPv4(bytes)).toBe(input);
  });

  test.each(["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1..2.3", "1.2.3.4.", "a.b.c.d", " 1.2.3.4", "1.2.3.-4"])(
    "%p is refused",
    (input) => {
      expect(parseIPv4Into(input, new Uint8Array(4), 0)).toBe(false);
    },
  );
});

test("addressFamily tells IPv4 from IPv6 and neither", () => {
  expect(addressFamily("192.0.2.1")).toBe(4);
  expect(addressFamily("2001:db8::1")).toBe(6);
  expect(addressFamily("example.com")).toBeUndefined();
});

test.each([
  "2001:db8::1",
  "2001:0DB8:0:0:0:0:0:1",
  "::",
  "::1",
  "fe80::",
  "2001:db8:0:0:1:0:0:1",
  "2001:0:0:1:0:0:0:1",
  "::ffff:192.0.2.1",
  "64:ff9b::192.0.2.33",
  "1:2:3:4:5:6:7:8",
  "192.0.2.10",
])("%s: the kernel-side text equals the configuration's", (input) => {
  expect(canonicalAddress(input)).toBe(parseIp(input)?.text);
});
