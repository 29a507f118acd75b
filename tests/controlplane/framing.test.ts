import { expect, test } from "bun:test";
import { encodeLine, LineDecoder } from "../../src/controlplane/framing.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

test("lines split across chunks and several lines in one chunk come out whole, in order", () => {
  const decoder = new LineDecoder(1024);
  const wire = encodeLine({ a: "x\ny" }) + encodeLine({ b: "é" });
  const data = bytes(wire);
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += 3) {
    for (const event of decoder.push(data.subarray(i, i + 3))) if (event.type === "line") lines.push(event.line);
  }
  expect(lines.map((line) => JSON.parse(line))).toEqual([{ a: "x\ny" }, { b: "é" }]);
});

test("a line over the limit is reported once and nothing after it is decoded", () => {
  const decoder = new LineDecoder(10);
  expect(decoder.push(bytes("0123456789\n"))).toEqual([{ type: "line", line: "0123456789" }]);
  expect(decoder.push(bytes("01234"))).toEqual([]);
  expect(decoder.push(bytes("567890"))).toEqual([{ type: "oversize", bytes: 11 }]);
  expect(decoder.failed).toBe(true);
  expect(decoder.push(bytes("\n{}\n"))).toEqual([]);
});

test("a line without its newline is not delivered yet", () => {
  const decoder = new LineDecoder(100);
  expect(decoder.push(bytes('{"a":1}'))).toEqual([]);
  expect(decoder.push(bytes("\n"))).toEqual([{ type: "line", line: '{"a":1}' }]);
});
