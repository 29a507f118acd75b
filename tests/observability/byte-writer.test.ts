/** The exposition's byte writer: a series line's value reads as JavaScript would print it. */

import { expect, test } from "bun:test";
import { ByteWriter } from "../../src/observability/metrics/byte-writer.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

test("integers of every length, and other numbers, are written as String(value) writes them", () => {
  const values = [0, 7, 10, 99, 100, 12345, 1000000, 4294967296, Number.MAX_SAFE_INTEGER, 1.5, -3, 2 ** 60, Infinity, -Infinity, NaN];
  const writer = new ByteWriter(16);
  for (const value of values) writer.line(utf8("\nm"), utf8('{a="b"}'), utf8(" "), value);
  const lines = new TextDecoder().decode(writer.result()).split("\n").slice(1);
  const printed = (value: number) => (Number.isNaN(value) ? "NaN" : value === Infinity ? "+Inf" : value === -Infinity ? "-Inf" : String(value));
  expect(lines).toEqual(values.map((value) => `m{a="b"} ${printed(value)}`));
});
