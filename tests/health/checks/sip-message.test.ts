/** The SIP codec of udp_sip (pure): the OPTIONS request's text, responses as real stacks write them, and broken ones. */

import { describe, expect, test } from "bun:test";
import { decodeResponse, encodeOptions, mismatch, SipMessageError } from "../../../src/health/checks/sip/message.ts";
import { defaultSipUri, judgeSip } from "../../../src/health/checks/udp-sip.ts";
import { checkProperty, type Random } from "../../support/seeded-random.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const REQUEST = { branch: "z9hG4bKabc123", callId: "c0ffee@lbctl", cseq: 4711 };

/** A 200 to REQUEST as sipp 3.6.1 wrote it (captured), with its Via copied from the request. */
const SIPP_200 =
  "SIP/2.0 200 OK\r\n" +
  "Via: SIP/2.0/UDP 127.0.0.1:59155;branch=z9hG4bKabc123;rport\r\n" +
  "From: <sip:lbctl@127.0.0.1>;tag=abc\r\n" +
  "To: <sip:ping@127.0.0.1:15060>;tag=31247SIPpTag011\r\n" +
  "Call-ID: c0ffee@lbctl\r\n" +
  "CSeq: 4711 OPTIONS\r\n" +
  "Contact: <sip:127.0.0.1:15060;transport=UDP>\r\n" +
  "Content-Length: 0\r\n\r\n";

describe("OPTIONS request", () => {
  test("golden text", () => {
    expect(encodeOptions({ ...REQUEST, uri: "sip:ping@10.0.0.1:5060", via: { address: "10.0.0.9", port: 40000 }, fromTag: "t1" })).toBe(
      "OPTIONS sip:ping@10.0.0.1:5060 SIP/2.0\r\n" +
        "Via: SIP/2.0/UDP 10.0.0.9:40000;branch=z9hG4bKabc123;rport\r\n" +
        "Max-Forwards: 70\r\n" +
        "From: <sip:lbctl@10.0.0.9>;tag=t1\r\n" +
        "To: <sip:ping@10.0.0.1:5060>\r\n" +
        "Call-ID: c0ffee@lbctl\r\n" +
        "CSeq: 4711 OPTIONS\r\n" +
        "Accept: application/sdp\r\n" +
        "User-Agent: lbctl health check\r\n" +
        "Content-Length: 0\r\n\r\n",
    );
  });

  test("IPv6: the Via host and the default URI are in brackets", () => {
    const text = encodeOptions({ ...REQUEST, uri: defaultSipUri({ address: "2001:db8::5", port: 5080 }), via: { address: "2001:db8::9", port: 4000 }, fromTag: "t" });
    expect(text).toStartWith("OPTIONS sip:ping@[2001:db8::5]:5080 SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::9]:4000;");
    expect(defaultSipUri({ address: "10.0.0.1", port: 5060 })).toBe("sip:ping@10.0.0.1:5060");
  });
});

describe("SIP responses", () => {
  test("a real sipp 200 decodes and answers the request", () => {
    const response = decodeResponse(utf8(SIPP_200));
    expect(response.status).toBe(200);
    expect(response.reasonPhrase).toBe("OK");
    expect(response.headers.get("cseq")).toEqual(["4711 OPTIONS"]);
    expect(mismatch(response, REQUEST)).toBeUndefined();
  });

  test("compact headers, folded lines, LF line ends, several Vias on one line", () => {
    const text = "SIP/2.0 200 OK\nv: SIP/2.0/UDP 10.0.0.9:4000;rport=4000;branch=z9hG4bKabc123, SIP/2.0/UDP proxy;branch=z9hG4bKother\ni: c0ffee@lbctl\nCSeq:\n 4711 OPTIONS\nl: 0\n\n";
    expect(mismatch(decodeResponse(utf8(text)), REQUEST)).toBeUndefined();
  });

  test("mismatches name what differs", () => {
    const edit = (from: string, to: string) => decodeResponse(utf8(SIPP_200.replace(from, to)));
    expect(mismatch(edit("branch=z9hG4bKabc123", "branch=z9hG4bKzzz"), REQUEST)).toBe("the top Via branch is z9hG4bKzzz, not this request's");
    expect(mismatch(edit(";branch=z9hG4bKabc123", ""), REQUEST)).toBe("the top Via branch is missing, not this request's");
    expect(mismatch(edit("Via: SIP/2.0/UDP 127.0.0.1:59155;branch=z9hG4bKabc123;rport\r\n", ""), REQUEST)).toBe("the response has no Via header");
    expect(mismatch(edit("Call-ID: c0ffee@lbctl", "Call-ID: other@host"), REQUEST)).toBe("the Call-ID is other@host, not this request's");
    expect(mismatch(edit("CSeq: 4711 OPTIONS", "CSeq: 4712 OPTIONS"), REQUEST)).toBe('the CSeq is 4712 OPTIONS, not "4711 OPTIONS"');
    expect(mismatch(edit("CSeq: 4711 OPTIONS", "CSeq: 4711 INVITE"), REQUEST)).toBe('the CSeq is 4711 INVITE, not "4711 OPTIONS"');
  });

  test("requests, garbage and broken headers are typed errors", () => {
    expect(() => decodeResponse(utf8("OPTIONS sip:x SIP/2.0\r\n\r\n"))).toThrow("expected a SIP response, got a request: OPTIONS sip:x SIP/2.0");
    expect(() => decodeResponse(utf8("HTTP/1.1 200 OK\r\n\r\n"))).toThrow("not a SIP response: HTTP/1.1 200 OK");
    expect(() => decodeResponse(utf8("SIP/2.0 200 OK\r\nno colon here\r\n\r\n"))).toThrow(SipMessageError);
    expect(() => decodeResponse(utf8("SIP/2.0 200 OK\r\n folded first\r\n\r\n"))).toThrow(/continuation line/);
    expect(() => decodeResponse(utf8(`SIP/2.0 200 OK\r\n${"X: y\r\n".repeat(300)}\r\n`))).toThrow(/more than 256 header lines/);
    expect(() => decodeResponse(new Uint8Array([0xff, 0, 1, 2]))).toThrow("not a SIP response: ????");
  });

  test("random bytes and mutated responses decode to a consistent response or throw SipMessageError, nothing else", () => {
    const valid = utf8(SIPP_200);
    checkProperty(
      {
        runs: 3000,
        generate: (random) => {
          if (random.next() < 0.4) return random.bytes(random.below(200));
          // sipp's 200 with a few bytes changed (CR, LF, colon, space and tab are likely): reaches the header parser.
          const bytes = valid.slice();
          const likely = [13, 10, 58, 32, 9];
          for (let flips = 1 + random.below(6); flips > 0; flips--) bytes[random.below(bytes.length)] = random.next() < 0.5 ? random.pick(likely) : random.below(256);
          return random.next() < 0.3 ? bytes.subarray(0, random.below(bytes.length + 1)) : bytes;
        },
      },
      (bytes) => {
        let response: ReturnType<typeof decodeResponse>;
        try {
          response = decodeResponse(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(SipMessageError);
          expect((error as SipMessageError).code).toBe("E_SIP_MALFORMED");
          return;
        }
        expect(response.status).toBeGreaterThanOrEqual(100);
        expect(response.status).toBeLessThanOrEqual(699);
        expect(response.reasonPhrase).toMatch(/^[\x20-\x7e]{0,64}$/);
        for (const [name, values] of response.headers) {
          expect(name).toBe(name.toLowerCase());
          expect(values.length).toBeGreaterThan(0);
        }
      },
    );
  });

  test("a response that echoes a request's Via, Call-ID and CSeq round trips: decoded, it answers that request", () => {
    const token = (random: Random, length: number) => Array.from({ length }, () => random.pick([..."abcdefghijklmnopqrstuvwxyz0123456789.-"])).join("");
    checkProperty(
      {
        runs: 500,
        generate: (random) => ({
          uri: `sip:${token(random, 1 + random.below(10))}@127.0.0.1`,
          via: { address: random.pick(["127.0.0.1", "::1", "192.0.2.7"]), port: 1 + random.below(65535) },
          branch: `z9hG4bK${token(random, 1 + random.below(20))}`,
          callId: `${token(random, 1 + random.below(20))}@lbctl`,
          fromTag: token(random, 8),
          cseq: 1 + random.below(2 ** 31 - 1),
          status: 100 + random.below(600),
        }),
      },
      ({ status, ...request }) => {
        // What a UAS does (RFC 3261 §8.2.6.2): copy Via, From, Call-ID and CSeq from the request into the response.
        const copied = encodeOptions(request).split("\r\n").filter((line) => /^(Via|From|Call-ID|CSeq):/.test(line));
        const response = decodeResponse(utf8([`SIP/2.0 ${status} Whatever`, ...copied, "Content-Length: 0", "", ""].join("\r\n")));
        expect(response.status).toBe(status);
        expect(response.reasonPhrase).toBe("Whatever");
        expect(mismatch(response, request)).toBeUndefined();
        expect(mismatch(response, { ...request, cseq: request.cseq + 1 })).toBe(`the CSeq is ${request.cseq} OPTIONS, not "${request.cseq + 1} OPTIONS"`);
      },
    );
  });
});

describe("udp_sip judgement", () => {
  test("200 is healthy by default; other statuses need sip_expect_status", () => {
    expect(judgeSip(utf8(SIPP_200), REQUEST, [[200, 200]])).toEqual({ ok: true, reason: "SIP 200 OK" });
    const busy = utf8(SIPP_200.replace("200 OK", "486 Busy Here"));
    expect(judgeSip(busy, REQUEST, [[200, 200]])).toEqual({ ok: false, reason: "SIP 486 Busy Here, expected 200" });
    expect(judgeSip(busy, REQUEST, [[200, 299], [400, 499]])).toEqual({ ok: true, reason: "SIP 486 Busy Here" });
    expect(judgeSip(utf8(SIPP_200.replace("200 OK", "503 Service Unavailable")), REQUEST, [[200, 200]])).toEqual({ ok: false, reason: "SIP 503 Service Unavailable, expected 200" });
  });

  test("1xx is provisional: keep waiting", () => {
    expect(judgeSip(utf8(SIPP_200.replace("200 OK", "100 Trying")), REQUEST, [[200, 200]])).toEqual({ provisional: "SIP 100 Trying" });
  });

  test("a response to another request is a failure, whatever its status", () => {
    expect(judgeSip(utf8(SIPP_200.replace("c0ffee@lbctl", "x@y")), REQUEST, [[200, 200]])).toEqual({
      ok: false,
      reason: "SIP 200 does not answer this request: the Call-ID is x@y, not this request's",
    });
  });

  test("reason phrases from the network are cleaned and bounded", () => {
    const judged = judgeSip(utf8(SIPP_200.replace("200 OK", `500 ${"\u0007".repeat(3)}${"x".repeat(100)}`)), REQUEST, [[200, 200]]);
    expect(judged).toEqual({ ok: false, reason: `SIP 500 ???${"x".repeat(61)}, expected 200` });
  });
});
