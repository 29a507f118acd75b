/**
 * parseIp takes a dotted quad without writing its bytes (a config of thousands of services parses tens of thousands
 * of addresses): it must accept exactly what the kernel codec's parser accepts, and give the same result as parsing
 * into bytes first, for IPv4 and IPv6 alike.
 */

import { expect, test } from "bun:test";
import { formatIPv6, isDottedQuad, parseIPv4Into, parseIPv6Into } from "../../src/ipvs/address.ts";
import { parseIp } from "../../src/config/ip.ts";
import { checkProperty, type Random } from "../support/seeded-random.ts";

/** The parse before the dotted-quad check: bytes first, IPv4 then IPv6 into the same buffer. */
function parseIpWithBytes(input: string): { family: 4 | 6; text: string } | undefined {
  const bytes = new Uint8Array(16);
  if (parseIPv4Into(input, bytes, 0)) return { family: 4, text: input };
  if (parseIPv6Into(input, bytes, 0)) return { family: 6, text: formatIPv6(bytes) };
  return undefined;
}

const SEEDS = ["10.0.0.1", "0.0.0.0", "255.255.255.255", "192.168.1.10", "::1", "2001:db8::1", "::ffff:10.0.0.1", "fe80::1:2:3:4", "1.2.3.4.5"];
const PIECES = ["0", "1", "9", "00", "01", "25", "255", "256", "999", ".", ":", "::", "a", "f", " ", "-", "+", "1e1", "０"];

function candidate(random: Random): string {
  if (random.chance(0.5)) {
    let text = random.pick(SEEDS);
    for (let e = random.below(3); e > 0; e--) {
      const at = random.below(text.length + 1);
      text = random.chance(0.5) ? text.slice(0, at) + random.pick(PIECES) + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
    }
    return text;
  }
  let text = "";
  for (let n = random.below(9); n > 0; n--) text += random.pick(PIECES);
  return text;
}

test("the dotted-quad check accepts what parseIPv4Into accepts, and parseIp reads as before", () => {
  let quads = 0;
  checkProperty({ runs: 50_000, generate: candidate }, (text) => {
    const quad = isDottedQuad(text);
    expect(quad).toBe(parseIPv4Into(text, new Uint8Array(4), 0));
    if (quad) quads++;
    expect(parseIp(text)).toEqual(parseIpWithBytes(text));
  });
  expect(quads).toBeGreaterThan(1000);
});
