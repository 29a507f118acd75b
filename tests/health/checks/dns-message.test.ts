/** The DNS codec of udp_dns (pure): golden bytes, names, compression, and every way a reply can be broken. */

import { describe, expect, test } from "bun:test";
import { decodeName, decodeReply, DNS_TYPE_CODES, DnsMessageError, encodeQuery, isName, rcodeName } from "../../../src/health/checks/dns/message.ts";
import { dnsLabels, dnsNameProblem } from "../../../src/config/dns-name.ts";
import { dnsSettings, judgeDns } from "../../../src/health/checks/udp-dns.ts";
import type { HealthFile } from "../../../src/health/types.ts";
import { checkProperty, type Random } from "../../support/seeded-random.ts";

const fromHex = (hex: string) => new Uint8Array(Buffer.from(hex.replace(/\s+/g, ""), "hex"));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** dnsmasq 2.90's answer to `up.lbctl.test A`, ID 0x1234, captured from the server the tests run. */
const DNSMASQ_ANSWER = fromHex(
  "1234 8580 0001 0001 0000 0000 02 7570 05 6c6263746c 04 74657374 00 0001 0001 c00c 0001 0001 00000000 0004 c0000235",
);
/** And to `other.lbctl.test A` (a name in its --local domain that it does not know): NXDOMAIN. */
const DNSMASQ_NXDOMAIN = fromHex("1234 8183 0001 0000 0000 0000 05 6f74686572 05 6c6263746c 04 74657374 00 0001 0001");

const HEALTH: HealthFile = { enabled: true, type: "udp_dns", port: 0, interval_ms: 1000, timeout_ms: 500, fail_after: 3, recover_after: 2, dns_query: "up.lbctl.test" };

describe("DNS queries", () => {
  test("golden bytes: ID, RD, one question of class IN", () => {
    expect(toHex(encodeQuery({ id: 0x1234, name: "up.lbctl.test", type: DNS_TYPE_CODES.a }))).toBe(
      "123401000001000000000000" + "02757005" + "6c6263746c" + "0474657374" + "00" + "0001" + "0001",
    );
    expect(toHex(encodeQuery({ id: 0xbeef, name: "a.example.", type: DNS_TYPE_CODES.aaaa, recursionDesired: false }))).toBe(
      "beef00000001000000000000" + "0161076578616d706c6500" + "001c0001",
    );
  });

  test("every dns_type has its IANA code", () => {
    expect(DNS_TYPE_CODES).toEqual({ a: 1, ns: 2, cname: 5, soa: 6, ptr: 12, mx: 15, txt: 16, aaaa: 28, srv: 33, any: 255 });
  });

  test("names that cannot be sent are refused with a typed error", () => {
    for (const name of ["a..b", `${"x".repeat(64)}.example`, "with space.example", "ünï.example", ""]) {
      expect(() => encodeQuery({ id: 1, name, type: 1 })).toThrow(DnsMessageError);
    }
    expect(dnsNameProblem(".")).toBeUndefined();
    expect(dnsNameProblem("_sip._udp.example.com")).toBeUndefined();
    expect(toHex(encodeQuery({ id: 1, name: ".", type: 2 }))).toBe("000101000001000000000000" + "00" + "00020001");
  });
});

describe("DNS replies", () => {
  test("a real dnsmasq answer decodes", () => {
    const reply = decodeReply(DNSMASQ_ANSWER);
    expect(reply.header).toMatchObject({ id: 0x1234, qr: true, opcode: 0, aa: true, tc: false, rd: true, rcode: 0, qdcount: 1, ancount: 1 });
    expect(reply.question).toEqual({ name: "up.lbctl.test", labels: ["up", "lbctl", "test"], type: 1, class: 1 });
    expect(decodeReply(DNSMASQ_NXDOMAIN).header.rcode).toBe(3);
  });

  test("compression pointers are followed; loops and pointers out of the message are errors", () => {
    // "example" at 12, then a name "www" + pointer to 12 at 21.
    const message = fromHex("000080000000000000000000 076578616d706c6500 03777777c00c");
    expect(decodeName(message, 21)).toEqual({ labels: ["www", "example"], next: 27 });
    const loop = fromHex("000080000001000000000000 c00c 00010001");
    expect(() => decodeReply(loop)).toThrow(/loop of compression pointers/);
    const outside = fromHex("000080000001000000000000 c0ff 00010001");
    expect(() => decodeReply(outside)).toThrow(/past the end/);
  });

  test("every truncation of a valid reply is a DnsMessageError, never a crash", () => {
    for (let length = 0; length < DNSMASQ_NXDOMAIN.length; length++) {
      expect(() => decodeReply(DNSMASQ_NXDOMAIN.subarray(0, length))).toThrow(DnsMessageError);
    }
  });

  test("random garbage and mutated replies decode to a consistent reply or throw DnsMessageError (E_DNS_MALFORMED), nothing else", () => {
    const valid = [DNSMASQ_ANSWER, DNSMASQ_NXDOMAIN];
    checkProperty(
      {
        runs: 5000,
        generate: (random) => {
          if (random.next() < 0.5) return random.bytes(random.below(80));
          // A real reply with a few bytes changed and maybe cut short: reaches the name and question parsers.
          const bytes = random.pick(valid).slice();
          for (let flips = 1 + random.below(4); flips > 0; flips--) bytes[random.below(bytes.length)] = random.below(256);
          return random.next() < 0.3 ? bytes.subarray(0, random.below(bytes.length + 1)) : bytes;
        },
      },
      (bytes) => {
        let reply: ReturnType<typeof decodeReply>;
        try {
          reply = decodeReply(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(DnsMessageError);
          expect((error as DnsMessageError).code).toBe("E_DNS_MALFORMED");
          return;
        }
        expect(bytes.length).toBeGreaterThanOrEqual(12);
        expect(reply.header.id).toBe((bytes[0]! << 8) | bytes[1]!);
        expect(reply.header.qdcount).toBe((bytes[4]! << 8) | bytes[5]!);
        if (reply.header.qdcount === 0) {
          expect(reply.question).toBeUndefined();
          return;
        }
        const question = reply.question!;
        expect(question.name).toBe(question.labels.join("."));
        expect(question.labels.every((label) => label.length >= 1 && label.length <= 63)).toBe(true);
        // Type and class are the four bytes after the question's name (its labels, or a pointer ending it), read
        // here without the codec.
        let at = 12;
        while (bytes[at] !== 0 && (bytes[at]! & 0xc0) !== 0xc0) at += bytes[at]! + 1;
        at += bytes[at] === 0 ? 1 : 2;
        expect({ type: question.type, class: question.class }).toEqual({ type: (bytes[at]! << 8) | bytes[at + 1]!, class: (bytes[at + 2]! << 8) | bytes[at + 3]! });
      },
    );
  });

  test("encode → decode round trips every sendable name; every other name is refused with E_DNS_NAME", () => {
    const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    const label = (random: Random, length: number) => Array.from({ length }, () => random.pick([...letters])).join("");
    checkProperty(
      {
        runs: 2000,
        generate: (random) => {
          const id = random.below(0x10000);
          const type = random.pick(Object.values(DNS_TYPE_CODES));
          if (random.next() < 0.2) {
            // Anything, dots and spaces included: mostly not a name.
            return { id, type, name: Array.from({ length: random.below(40) }, () => String.fromCharCode(0x1f + random.below(0x61))).join("") };
          }
          // Labels of 1-70 characters (63 is the limit), 1-8 of them, sometimes a trailing dot.
          const labels = Array.from({ length: 1 + random.below(8) }, () => label(random, 1 + (random.next() < 0.1 ? random.below(70) : random.below(20))));
          return { id, type, name: labels.join(".") + (random.next() < 0.2 ? "." : "") };
        },
      },
      ({ id, type, name }) => {
        const problem = dnsNameProblem(name);
        if (problem !== undefined) {
          let refused: unknown;
          try {
            encodeQuery({ id, name, type });
          } catch (error) {
            refused = error;
          }
          expect(refused).toBeInstanceOf(DnsMessageError);
          expect((refused as DnsMessageError).code).toBe("E_DNS_NAME");
          return;
        }
        const decoded = decodeReply(encodeQuery({ id, name, type }));
        expect(decoded.header).toMatchObject({ id, qr: false, opcode: 0, rd: true, rcode: 0, qdcount: 1, ancount: 0 });
        expect(decoded.question).toEqual({ name: dnsLabels(name).join("."), labels: dnsLabels(name), type, class: 1 });
      },
    );
  });

  test("label types 01 and 10 are refused", () => {
    expect(() => decodeReply(fromHex("000080000001000000000000 4100 00010001"))).toThrow(/unknown type 0x40/);
    expect(() => decodeReply(fromHex("000080000001000000000000 8100 00010001"))).toThrow(/unknown type 0x80/);
  });

  test("names compare label by label, ASCII case ignored", () => {
    expect(isName(["UP", "Lbctl", "test"], "up.lbctl.test.")).toBe(true);
    expect(isName(["up.lbctl", "test"], "up.lbctl.test")).toBe(false);
    expect(isName(["\u00c4"], "\u00e4")).toBe(false);
  });

  test("rcode names", () => {
    expect([0, 1, 2, 3, 4, 5, 9, 15].map(rcodeName)).toEqual(["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "NOTAUTH", "RCODE 15"]);
  });
});

describe("udp_dns judgement", () => {
  const settings = dnsSettings(HEALTH);
  const edit = (bytes: Uint8Array, offset: number, values: number[]) => {
    const copy = bytes.slice();
    copy.set(values, offset);
    return copy;
  };

  test("defaults: type A, NOERROR", () => {
    expect(settings).toEqual({ name: "up.lbctl.test", type: 1, rcodes: ["NOERROR"] });
  });

  test("the matching answer is healthy", () => {
    expect(judgeDns(DNSMASQ_ANSWER, 0x1234, settings)).toEqual({ ok: true, reason: "NOERROR, 1 answer" });
  });

  test("another ID is a failure", () => {
    expect(judgeDns(DNSMASQ_ANSWER, 0x1235, settings)).toEqual({ ok: false, reason: "reply ID 0x1234 does not match the query ID 0x1235" });
  });

  test("a query instead of a reply, another opcode, the TC bit", () => {
    expect(judgeDns(edit(DNSMASQ_ANSWER, 2, [0x05]), 0x1234, settings)).toMatchObject({ ok: false, reason: "not a reply: the QR bit is clear" });
    expect(judgeDns(edit(DNSMASQ_ANSWER, 2, [0x90]), 0x1234, settings)).toMatchObject({ ok: false, reason: expect.stringContaining("opcode 2") });
    expect(judgeDns(edit(DNSMASQ_ANSWER, 2, [0x87]), 0x1234, settings)).toMatchObject({ ok: false, reason: expect.stringContaining("truncated reply (TC bit set)") });
  });

  test("another question (name, type, class, count) is a failure", () => {
    expect(judgeDns(DNSMASQ_NXDOMAIN, 0x1234, settings)).toMatchObject({ ok: false, reason: 'reply question "other.lbctl.test/A" does not match the query\'s "up.lbctl.test/A"' });
    expect(judgeDns(DNSMASQ_ANSWER, 0x1234, { ...settings, type: 28 })).toMatchObject({ ok: false, reason: expect.stringContaining('"up.lbctl.test/AAAA"') });
    expect(judgeDns(edit(DNSMASQ_ANSWER, 29, [0, 3]), 0x1234, settings)).toMatchObject({ ok: false, reason: expect.stringContaining("class 3") });
    expect(judgeDns(edit(DNSMASQ_ANSWER, 4, [0, 2]), 0x1234, settings)).toMatchObject({ ok: false, reason: expect.stringContaining("(+1 more)") });
    expect(judgeDns(edit(DNSMASQ_ANSWER, 4, [0, 0]), 0x1234, settings)).toMatchObject({ ok: false, reason: "reply has no question (NOERROR), expected up.lbctl.test/A" });
  });

  test("RCODE must be one of expect_rcode", () => {
    const nx = { ...settings, name: "other.lbctl.test" };
    expect(judgeDns(DNSMASQ_NXDOMAIN, 0x1234, nx)).toEqual({ ok: false, reason: "NXDOMAIN, expected NOERROR" });
    expect(judgeDns(DNSMASQ_NXDOMAIN, 0x1234, { ...nx, rcodes: ["NOERROR", "NXDOMAIN"] })).toEqual({ ok: true, reason: "NXDOMAIN, 0 answers" });
  });

  test("a malformed reply is a failure with the parser's reason", () => {
    expect(judgeDns(DNSMASQ_ANSWER.subarray(0, 7), 0x1234, settings)).toEqual({ ok: false, reason: "malformed DNS reply: 7 bytes, shorter than the 12-byte header" });
    expect(judgeDns(DNSMASQ_ANSWER.subarray(0, 20), 0x1234, settings)).toMatchObject({ ok: false, reason: expect.stringMatching(/^malformed DNS reply: /) });
  });
});
