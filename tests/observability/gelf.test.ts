/**
 * GELF: message mapping, UDP chunking and compression read back by a decoder written here from the GELF spec
 * (not the encoder's code), and real UDP and TCP receivers.
 */

import { describe, expect, test } from "bun:test";
import { udpDatagrams, tcpFrame, GelfTooLargeError, randomMessageId } from "../../src/observability/gelf/framing.ts";
import { additionalFieldName, gelfMessage, encodeGelf } from "../../src/observability/gelf/message.ts";
import { gelfSink } from "../../src/observability/gelf/sink.ts";
import type { LogRecord } from "../../src/observability/logger.ts";

/** GELF UDP decoding per the spec: chunks (0x1e 0x0f, id, seq, count) reassembled, gzip (0x1f 0x8b) inflated. */
class GelfUdpDecoder {
  readonly #partial = new Map<string, { count: number; parts: (Uint8Array | undefined)[] }>();

  /** The message a datagram completes, if any. */
  accept(datagram: Uint8Array): Record<string, unknown> | undefined {
    if (datagram[0] === 0x1e && datagram[1] === 0x0f) {
      const id = Buffer.from(datagram.subarray(2, 10)).toString("hex");
      const seq = datagram[10]!;
      const count = datagram[11]!;
      if (count < 1 || count > 128 || seq >= count) throw new Error(`bad chunk header ${seq}/${count}`);
      const entry = this.#partial.get(id) ?? { count, parts: new Array<Uint8Array | undefined>(count).fill(undefined) };
      if (entry.count !== count) throw new Error("chunk count changed within a message");
      entry.parts[seq] = datagram.slice(12);
      this.#partial.set(id, entry);
      if (entry.parts.some((p) => p === undefined)) return undefined;
      this.#partial.delete(id);
      return this.accept(Buffer.concat(entry.parts as Uint8Array[]));
    }
    if (datagram[0] === 0x1f && datagram[1] === 0x8b) return JSON.parse(new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(datagram))));
    if (datagram[0] === 0x7b) return JSON.parse(new TextDecoder().decode(datagram));
    throw new Error(`unknown GELF payload starting ${datagram[0]}`);
  }
}

const record = (over: Partial<LogRecord> = {}): LogRecord => ({
  time: new Date("2026-01-02T03:04:05.678Z"),
  level: "warn",
  message: "Backend unhealthy",
  fields: { service: "web", backend: "10.0.0.1:80", weight: 0, ok: false, id: "x", "bad key!": "v", missing: undefined },
  ...over,
});

/** Text that gzip cannot shrink much: the message needs several chunks even compressed. */
function noise(bytes: number): string {
  const random = crypto.getRandomValues(new Uint8Array(bytes));
  return Buffer.from(random).toString("base64");
}

describe("GELF messages", () => {
  test("1.1 fields: host, short/full message, timestamp in seconds, syslog level, _facility, _node, _ fields", () => {
    const message = gelfMessage(record({ message: "Line one\nline two" }), { host: "lb-a.example", facility: "lbctl", node: "lb-a" });
    expect(message).toEqual({
      version: "1.1",
      host: "lb-a.example",
      short_message: "Line one",
      full_message: "Line one\nline two",
      timestamp: 1767323045.678,
      level: 4,
      _service: "web",
      _backend: "10.0.0.1:80",
      _weight: 0,
      _ok: "false",
      _id_: "x",
      "_bad_key_": "v",
      _facility: "lbctl",
      _node: "lb-a",
    });
    for (const [level, number] of [["debug", 7], ["info", 6], ["warn", 4], ["error", 3]] as const) {
      expect(gelfMessage(record({ level }), { host: "h", facility: "f" }).level).toBe(number);
    }
  });

  test("audit records carry _event_type=audit and _audit_event, over any caller field of that name", () => {
    const message = gelfMessage(record({ audit: "health_state_changed", fields: { event_type: "spoof", facility: "spoof" } }), { host: "h", facility: "lbctl" });
    expect(message).toMatchObject({ _event_type: "audit", _audit_event: "health_state_changed", _facility: "lbctl" });
    expect(additionalFieldName("id")).toBe("_id_");
  });
});

describe("GELF UDP framing", () => {
  test("small messages go as one plain datagram", () => {
    const json = encodeGelf(gelfMessage(record(), { host: "h", facility: "f" }));
    const datagrams = udpDatagrams(json, { messageId: randomMessageId });
    expect(datagrams).toHaveLength(1);
    expect(new GelfUdpDecoder().accept(datagrams[0]!)).toMatchObject({ short_message: "Backend unhealthy", _service: "web" });
  });

  test("a large compressible message is gzip-compressed into one datagram", () => {
    const json = encodeGelf(gelfMessage(record({ message: `x\n${"repeat ".repeat(2000)}` }), { host: "h", facility: "f" }));
    expect(json.length).toBeGreaterThan(1420);
    const datagrams = udpDatagrams(json, { messageId: randomMessageId });
    expect(datagrams).toHaveLength(1);
    expect([datagrams[0]![0], datagrams[0]![1]]).toEqual([0x1f, 0x8b]);
    expect(datagrams[0]!.length).toBeLessThanOrEqual(1420);
    expect(new GelfUdpDecoder().accept(datagrams[0]!)?.full_message).toBe(`x\n${"repeat ".repeat(2000)}`);
  });

  test("a large message is chunked (each ≤ the datagram size, same id, seq 0..n-1) and reassembles in any order", () => {
    const text = `x\n${noise(9000)}`;
    const json = encodeGelf(gelfMessage(record({ message: text }), { host: "h", facility: "f" }));
    const datagrams = udpDatagrams(json, { messageId: () => new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), datagramBytes: 1000 });
    expect(datagrams.length).toBeGreaterThan(5);
    datagrams.forEach((d, i) => {
      expect(d.length).toBeLessThanOrEqual(1000);
      expect([...d.subarray(0, 12)]).toEqual([0x1e, 0x0f, 1, 2, 3, 4, 5, 6, 7, 8, i, datagrams.length]);
    });
    const decoder = new GelfUdpDecoder();
    const shuffled = [...datagrams].reverse();
    const results = shuffled.map((d) => decoder.accept(d));
    expect(results.slice(0, -1).every((r) => r === undefined)).toBe(true);
    expect(results.at(-1)?.full_message).toBe(text);
  });

  test("more than 128 chunks is refused with a typed error", () => {
    const json = encodeGelf(gelfMessage(record({ message: noise(30_000) }), { host: "h", facility: "f" }));
    expect(() => udpDatagrams(json, { messageId: randomMessageId, datagramBytes: 100 })).toThrow(GelfTooLargeError);
  });

  test("TCP frames are the uncompressed JSON and a NUL", () => {
    const json = encodeGelf({ version: "1.1", host: "h", short_message: "a\u0000b", timestamp: 1, level: 6 });
    const frame = tcpFrame(json);
    expect(frame.at(-1)).toBe(0);
    expect(frame.subarray(0, -1).includes(0)).toBe(false);
    expect(JSON.parse(new TextDecoder().decode(frame.subarray(0, -1))).short_message).toBe("a\u0000b");
  });
});

describe("GELF sinks on real sockets", () => {
  test("UDP: a chunked, compressed message arrives whole at a local receiver", async () => {
    const decoder = new GelfUdpDecoder();
    const received: Record<string, unknown>[] = [];
    const server = await Bun.udpSocket({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(_s, data) {
          const message = decoder.accept(new Uint8Array(data));
          if (message) received.push(message);
        },
      },
    });
    const errors: string[] = [];
    const sink = gelfSink({ server: { host: "127.0.0.1", port: server.port }, protocol: "udp", facility: "lbctl", node: "lb-a", sourceHost: "lb-a.example", onError: (m) => errors.push(m) });
    const big = `big\n${noise(6000)}`;
    sink.write(record());
    sink.write(record({ message: big, audit: "reload_failed", level: "error" }));
    const deadline = performance.now() + 5000;
    while (received.length < 2 && performance.now() < deadline) await Bun.sleep(20);
    sink.close();
    server.close();
    expect(errors).toEqual([]);
    expect(received.map((m) => m.short_message)).toEqual(["Backend unhealthy", "big"]);
    expect(received[1]).toMatchObject({ full_message: big, level: 3, host: "lb-a.example", _event_type: "audit", _audit_event: "reload_failed", _node: "lb-a" });
  });

  test("TCP: NUL-terminated frames; a receiver that starts late gets what was queued; errors are reported, not thrown", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
      resolve(probe.port);
      probe.stop(true);
    });
    const errors: string[] = [];
    const sink = gelfSink({ server: { host: "127.0.0.1", port }, protocol: "tcp", facility: "lbctl", onError: (m) => errors.push(m) });
    sink.write(record({ message: "first" }));
    await Bun.sleep(200);
    expect(errors.join("\n")).toContain(`GELF TCP to 127.0.0.1:${port}`);
    let buffer = Buffer.alloc(0);
    const server = Bun.listen({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, data) {
          buffer = Buffer.concat([buffer, data]);
        },
      },
    });
    sink.write(record({ message: "second" }));
    const deadline = performance.now() + 8000;
    while (buffer.filter((b) => b === 0).length < 2 && performance.now() < deadline) await Bun.sleep(50);
    sink.close();
    server.stop(true);
    const frames = buffer.toString("utf8").split("\u0000");
    expect(frames.at(-1)).toBe("");
    expect(frames.slice(0, -1).map((f) => JSON.parse(f).short_message)).toEqual(["first", "second"]);
  }, 15_000);
});

describe("GELF sink queue", () => {
  function rig(protocol: "udp" | "tcp", capacity = 100) {
    const sends: Uint8Array[][] = [];
    const scheduled: (() => void)[] = [];
    const drops: number[] = [];
    const sink = gelfSink({
      server: { host: "graylog.example", port: 12201 },
      protocol,
      facility: "lbctl",
      onError: () => {},
      transport: { send: (frames) => void sends.push(frames), close: () => void sends.push([]) },
      queue: { capacity, schedule: (flush) => void scheduled.push(flush), onDropped: (count) => void drops.push(count) },
    });
    const messages = () => sends.flat().map((frame) => JSON.parse(new TextDecoder().decode(frame).replace(/\0$/, "")).short_message);
    return { sink, sends, scheduled, drops, messages };
  }

  test("TCP: nothing is sent in the caller's turn; then one send for the batch, in order", () => {
    const r = rig("tcp");
    for (let i = 0; i < 5; i++) r.sink.write(record({ message: `m${i}` }));
    expect(r.sends).toEqual([]);
    expect(r.scheduled).toHaveLength(1);
    r.scheduled[0]!();
    expect(r.sends).toHaveLength(1);
    expect(r.messages()).toEqual(["m0", "m1", "m2", "m3", "m4"]);
  });

  test("a full queue drops, counts, and sends a message saying how many; close sends what waits first", () => {
    const r = rig("udp", 2);
    for (let i = 0; i < 5; i++) r.sink.write(record({ message: `m${i}` }));
    expect(r.drops).toEqual([1, 1, 1]);
    r.sink.close();
    expect(r.messages()).toEqual(["m0", "m1", "Log records dropped: the gelf queue was full"]);
    // The transport is closed after the queue was sent.
    expect(r.sends.at(-1)).toEqual([]);
  });
});
