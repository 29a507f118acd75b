/** The NTP codec of udp_ntp (pure): the request's bytes and the judgement of every kind of reply. */

import { describe, expect, test } from "bun:test";
import { decodeReply, encodeRequest, kissCode, NtpPacketError } from "../../../src/health/checks/ntp/packet.ts";
import { judgeNtp } from "../../../src/health/checks/udp-ntp.ts";
import { checkProperty } from "../../support/seeded-random.ts";

const NONCE = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

/** A server reply: LI/VN/mode, stratum, reference ID, origin = nonce, a non-zero transmit timestamp. */
function reply({ leap = 0, version = 4, mode = 4, stratum = 2, refid = [127, 127, 1, 1], origin = NONCE, transmit = [0xe9, 1, 2, 3, 0, 0, 0, 1], length = 48 } = {}): Uint8Array {
  const out = new Uint8Array(length);
  out[0] = (leap << 6) | (version << 3) | mode;
  out[1] = stratum;
  out.set(refid, 12);
  out.set(origin, 24);
  out.set(transmit, 40);
  return out;
}

describe("NTP request", () => {
  test("48 bytes: LI 0, version 4, mode 3 (client), the nonce as transmit timestamp, everything else zero", () => {
    const request = encodeRequest(NONCE);
    expect(request.length).toBe(48);
    expect(request[0]).toBe(0x23);
    expect([...request.subarray(40)]).toEqual([...NONCE]);
    expect(request.subarray(1, 40).every((b) => b === 0)).toBe(true);
    expect(() => encodeRequest(new Uint8Array(4))).toThrow(RangeError);
  });
});

describe("NTP reply", () => {
  test("decodes the header fields", () => {
    expect(decodeReply(reply({ leap: 1, version: 3, stratum: 7 }))).toMatchObject({ leap: 1, version: 3, mode: 4, stratum: 7 });
  });

  test("shorter than 48 bytes is a typed error; extension fields after 48 are fine", () => {
    for (let length = 0; length < 48; length++) expect(() => decodeReply(new Uint8Array(length))).toThrow(NtpPacketError);
    expect(decodeReply(reply({ length: 68 })).stratum).toBe(2);
  });

  test("kiss codes are four printable characters", () => {
    expect(kissCode(new TextEncoder().encode("RATE"))).toBe("RATE");
    expect(kissCode(new Uint8Array([0, 0, 0, 0]))).toBeUndefined();
    expect(kissCode(new Uint8Array([127, 127, 1, 1]))).toBeUndefined();
  });
});

describe("udp_ntp judgement", () => {
  test("a synchronised server reply echoing the nonce is healthy", () => {
    expect(judgeNtp(reply(), NONCE, 15)).toEqual({ ok: true, reason: "stratum 2" });
    expect(judgeNtp(reply({ stratum: 15 }), NONCE, 15)).toEqual({ ok: true, reason: "stratum 15" });
    expect(judgeNtp(reply({ stratum: 1, version: 3, leap: 1 }), NONCE, 1)).toMatchObject({ ok: true });
  });

  test("the origin must be this request's transmit timestamp", () => {
    expect(judgeNtp(reply({ origin: new Uint8Array(8) }), NONCE, 15)).toEqual({ ok: false, reason: "reply's origin timestamp is not this request's transmit timestamp" });
  });

  test("mode must be 4 (server); version 1-4", () => {
    expect(judgeNtp(reply({ mode: 3 }), NONCE, 15)).toEqual({ ok: false, reason: "reply in mode 3, expected 4 (server)" });
    expect(judgeNtp(reply({ mode: 5 }), NONCE, 15)).toMatchObject({ ok: false });
    expect(judgeNtp(reply({ version: 0 }), NONCE, 15)).toEqual({ ok: false, reason: "reply has NTP version 0" });
  });

  test("leap indicator 3 and stratum 16 mean unsynchronised", () => {
    expect(judgeNtp(reply({ leap: 3 }), NONCE, 15)).toEqual({ ok: false, reason: "server not synchronised (leap indicator 3, stratum 2)" });
    expect(judgeNtp(reply({ stratum: 16 }), NONCE, 15)).toEqual({ ok: false, reason: "server not synchronised (stratum 16)" });
    expect(judgeNtp(reply({ stratum: 255 }), NONCE, 15)).toMatchObject({ ok: false, reason: "server not synchronised (stratum 255)" });
  });

  test("stratum 0: a kiss-o'-death names its code; without one it is an unsynchronised server", () => {
    expect(judgeNtp(reply({ stratum: 0, leap: 3, refid: [...new TextEncoder().encode("RATE")] }), NONCE, 15)).toEqual({ ok: false, reason: "kiss-o'-death RATE (stratum 0)" });
    expect(judgeNtp(reply({ stratum: 0, refid: [...new TextEncoder().encode("DENY")] }), NONCE, 15)).toMatchObject({ reason: "kiss-o'-death DENY (stratum 0)" });
    expect(judgeNtp(reply({ stratum: 0, leap: 3, refid: [0, 0, 0, 0] }), NONCE, 15)).toEqual({ ok: false, reason: "server not synchronised (stratum 0, leap indicator 3)" });
  });

  test("stratum above ntp_max_stratum", () => {
    expect(judgeNtp(reply({ stratum: 4 }), NONCE, 3)).toEqual({ ok: false, reason: "stratum 4, above ntp_max_stratum 3" });
  });

  test("a reply without a transmit timestamp is bogus", () => {
    expect(judgeNtp(reply({ transmit: [0, 0, 0, 0, 0, 0, 0, 0] }), NONCE, 15)).toEqual({ ok: false, reason: "reply has no transmit timestamp" });
  });

  test("short or random bytes never crash, and only a sound reply to this request is healthy (seeded; the seed is printed on failure)", () => {
    expect(judgeNtp(new Uint8Array(10), NONCE, 15)).toEqual({ ok: false, reason: "malformed NTP reply: 10 bytes, shorter than the 48-byte header" });
    const valid = reply();
    const seen = { healthy: 0, unhealthy: 0 };
    checkProperty(
      {
        runs: 3000,
        generate: (random) => {
          const maxStratum = 1 + random.below(15);
          if (random.chance(0.4)) return { bytes: random.bytes(random.below(70)), maxStratum };
          // A healthy reply with a few bytes changed (the header's first two bytes, the origin) and maybe cut short.
          const bytes = valid.slice();
          for (let flips = random.below(4); flips > 0; flips--) {
            const at = random.chance(0.5) ? random.below(2) : random.chance(0.5) ? 24 + random.below(8) : random.below(bytes.length);
            bytes[at] = random.below(256);
          }
          return { bytes: random.chance(0.2) ? bytes.subarray(0, random.below(bytes.length + 1)) : bytes, maxStratum };
        },
        show: ({ bytes, maxStratum }) => `0x${Buffer.from(bytes).toString("hex")} (${bytes.length} bytes), ntp_max_stratum ${maxStratum}`,
      },
      ({ bytes, maxStratum }) => {
        const judged = judgeNtp(bytes, NONCE, maxStratum);
        // NTP has one reply per request: a verdict, never a provisional answer.
        if ("provisional" in judged) throw new Error(`a provisional judgement: ${judged.provisional}`);
        expect(judged.reason.length).toBeGreaterThan(0);
        // Healthy exactly when RFC 5905's rules say so, read here from the bytes without the codec.
        const stratum = bytes[1]!;
        const sound =
          bytes.length >= 48 &&
          (bytes[0]! & 7) === 4 &&
          ((bytes[0]! >> 3) & 7) >= 1 &&
          ((bytes[0]! >> 3) & 7) <= 4 &&
          bytes[0]! >> 6 !== 3 &&
          stratum >= 1 &&
          stratum <= maxStratum &&
          bytes.subarray(24, 32).every((b, i) => b === NONCE[i]) &&
          bytes.subarray(40, 48).some((b) => b !== 0);
        expect(judged.ok).toBe(sound);
        seen[judged.ok ? "healthy" : "unhealthy"]++;
      },
    );
    // Both sides of the rule were reached (about a sixth of the inputs are left sound).
    expect(seen.healthy).toBeGreaterThan(100);
    expect(seen.unhealthy).toBeGreaterThan(1000);
  });
});
