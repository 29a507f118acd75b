import { describe, expect, test } from "bun:test";
import { FramedOutput } from "./console-filter.ts";

const NONCE = "0123abcd";
const BEGIN = `<<lbctl-lab:begin:${NONCE}>>\n`;
const END = `<<lbctl-lab:end:${NONCE}>>\n`;

function feed(filter: FramedOutput, chunks: string[]): string {
  return chunks.map((chunk) => filter.push(Buffer.from(chunk)).toString()).join("") + filter.flush().toString();
}

function bytewise(text: string): string[] {
  return [...text];
}

describe("FramedOutput", () => {
  test.each([
    ["one chunk", [`\x1bcSeaBIOS\r\n${BEGIN}hello\nworld\n${END}reboot: Restarting\n`]],
    ["byte by byte", bytewise(`firmware${BEGIN}hello\nworld\n${END}after`)],
    ["markers split across chunks", ["junk<<lbctl-lab:beg", `in:${NONCE}>>\nhello\nwor`, "ld\n<<lbctl-lab:e", `nd:${NONCE}>>\n`]],
  ])("keeps only the command's output: %s", (_name, chunks) => {
    const filter = new FramedOutput(NONCE);
    expect(feed(filter, chunks)).toBe("hello\nworld\n");
    expect(filter.started).toBe(true);
    expect(filter.finished).toBe(true);
  });

  test("output without a final newline ends at the end marker", () => {
    expect(feed(new FramedOutput(NONCE), [`${BEGIN}no newline${END}`])).toBe("no newline");
  });

  test("a marker with another nonce is the command's output", () => {
    const fake = "<<lbctl-lab:end:other>>\n";
    expect(feed(new FramedOutput(NONCE), [`${BEGIN}${fake}real${END}`])).toBe(`${fake}real`);
  });

  test("when the guest dies mid-command, what arrived is still delivered", () => {
    const filter = new FramedOutput(NONCE);
    expect(feed(filter, [BEGIN, "partial output <<lbctl"])).toBe("partial output <<lbctl");
    expect(filter.started).toBe(true);
    expect(filter.finished).toBe(false);
  });

  test("nothing is delivered when the command never started", () => {
    const filter = new FramedOutput(NONCE);
    expect(feed(filter, ["Kernel panic - not syncing\n"])).toBe("");
    expect(filter.started).toBe(false);
  });
});
