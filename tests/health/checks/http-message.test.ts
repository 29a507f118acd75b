/** The HTTP codec of the http check (pure): the request's text and the status line, bounded. */

import { describe, expect, test } from "bun:test";
import { decodeStatusLine, encodeRequest, HttpMessageError, MAX_STATUS_LINE } from "../../../src/health/checks/http/message.ts";
import { defaultHttpHost } from "../../../src/health/checks/http.ts";
import { formatRanges, inRanges } from "../../../src/health/checks/_ranges.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("HTTP request", () => {
  test("golden text", () => {
    expect(encodeRequest("/healthz?full=1", "app.example.com")).toBe(
      "GET /healthz?full=1 HTTP/1.1\r\nHost: app.example.com\r\nUser-Agent: lbctl health check\r\nAccept: */*\r\nConnection: close\r\n\r\n",
    );
  });

  test("the default Host is the address, with the port unless 80, IPv6 in brackets", () => {
    expect(defaultHttpHost({ address: "10.0.0.1", port: 80 })).toBe("10.0.0.1");
    expect(defaultHttpHost({ address: "10.0.0.1", port: 8080 })).toBe("10.0.0.1:8080");
    expect(defaultHttpHost({ address: "2001:db8::1", port: 80 })).toBe("[2001:db8::1]");
    expect(defaultHttpHost({ address: "2001:db8::1", port: 8443 })).toBe("[2001:db8::1]:8443");
  });
});

describe("status line", () => {
  test("HTTP/1.0 and 1.1, with or without a reason phrase, CRLF or LF", () => {
    expect(decodeStatusLine(bytes("HTTP/1.1 200 OK\r\nServer: x\r\n\r\nbody"))).toEqual({ version: "1.1", status: 200, reasonPhrase: "OK" });
    expect(decodeStatusLine(bytes("HTTP/1.0 503 Service Unavailable\n"))).toEqual({ version: "1.0", status: 503, reasonPhrase: "Service Unavailable" });
    expect(decodeStatusLine(bytes("HTTP/1.1 204\r\n"))).toEqual({ version: "1.1", status: 204, reasonPhrase: "" });
  });

  test("incomplete: undefined until the line ends", () => {
    expect(decodeStatusLine(bytes(""))).toBeUndefined();
    expect(decodeStatusLine(bytes("HTT"))).toBeUndefined();
    expect(decodeStatusLine(bytes("HTTP/1.1 200 O"))).toBeUndefined();
  });

  test("what cannot be an HTTP response fails at once, with the bytes shown cleaned", () => {
    expect(() => decodeStatusLine(bytes("SSH-2.0-OpenSSH_9.2"))).toThrow("not an HTTP response: SSH-2.0-OpenSSH_9.2");
    expect(() => decodeStatusLine(new Uint8Array([0x15, 0x03, 0x01, 0x00, 0x02]))).toThrow("not an HTTP response: ?????");
    expect(() => decodeStatusLine(bytes("HTTP/2 200\r\n"))).toThrow("not an HTTP/1.x status line: HTTP/2 200");
    expect(() => decodeStatusLine(bytes("HTTP/1.1 20 OK\r\n"))).toThrow(HttpMessageError);
    expect(() => decodeStatusLine(bytes("HTTP/1.1 600 Nope\r\n"))).toThrow(HttpMessageError);
  });

  test("bounded: no end of line within MAX_STATUS_LINE bytes is an error", () => {
    expect(() => decodeStatusLine(bytes(`HTTP/1.1 200 ${"x".repeat(MAX_STATUS_LINE)}`))).toThrow(`no status line in the first ${MAX_STATUS_LINE} bytes`);
    expect(() => decodeStatusLine(bytes(`HTTP/1.1 200 ${"x".repeat(MAX_STATUS_LINE)}\r\n`))).toThrow("longer than");
  });
});

describe("status ranges", () => {
  test("membership and display", () => {
    const ranges: Array<[number, number]> = [
      [200, 299],
      [304, 304],
    ];
    expect([199, 200, 299, 300, 304].map((code) => inRanges(code, ranges))).toEqual([false, true, true, false, true]);
    expect(formatRanges(ranges)).toBe("200-299, 304");
  });
});
