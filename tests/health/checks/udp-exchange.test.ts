/**
 * The UDP exchange every UDP check uses (src/health/checks/_udp.ts), on real loopback sockets: ICMP errors as Bun
 * 1.4.5 reports them, one probe's ICMP error leaving the others alone, replies from elsewhere, silence, aborts
 * releasing the socket, and the abort listener removed once a probe settles.
 */

import { afterEach, describe, expect, test } from "bun:test";
import type { udp } from "bun";
import { readFileSync } from "node:fs";
import { udpExchange, type UdpExchange } from "../../../src/health/checks/_udp.ts";
import type { ProbeResult, ProbeTarget } from "../../../src/health/types.ts";

const HEALTH = { enabled: true, type: "udp_echo" as const, port: 0, interval_ms: 1000, timeout_ms: 300, fail_after: 3, recover_after: 2 };

const target = (port: number, address = "127.0.0.1", timeout_ms = 300): ProbeTarget => ({
  address,
  port,
  family: address.includes(":") ? 6 : 4,
  health: { ...HEALTH, timeout_ms },
});

/** Echoes what it receives, after `delayMs`. */
const echo = (bytes: string): UdpExchange => ({
  request: new TextEncoder().encode(bytes),
  judge: (reply) => ({ ok: new TextDecoder().decode(reply) === bytes, reason: `got ${new TextDecoder().decode(reply)}` }),
});

const sockets: Array<{ close(): void }> = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

async function responder(
  onData: (socket: udp.Socket<"uint8array">, data: Uint8Array, port: number, address: string) => void,
  hostname = "127.0.0.1",
): Promise<udp.Socket<"uint8array">> {
  // The error handler takes the ICMP errors a responder may get (a reply to a socket that no longer exists).
  const socket = await Bun.udpSocket({ hostname, port: 0, binaryType: "uint8array", socket: { data: onData, error() {} } });
  sockets.push(socket);
  return socket;
}

const echoServer = (delayMs = 0, hostname = "127.0.0.1") =>
  responder((socket, data, port, address) => {
    if (delayMs === 0) socket.send(data, port, address);
    else setTimeout(() => socket.send(data, port, address), delayMs);
  }, hostname);

async function closedPort(): Promise<number> {
  const socket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const { port } = socket;
  socket.close();
  return port;
}

/** UDP sockets of this network namespace whose remote end is 127.0.0.1:`port` (/proc/net/udp). */
function socketsConnectedTo(port: number): number {
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return readFileSync("/proc/net/udp", "utf8")
    .split("\n")
    .filter((line) => line.trim().split(/\s+/)[2] === remote).length;
}

describe("Bun's UDP sockets (the pinned version's behaviour the checks rely on)", () => {
  test(`a connected socket reports an ICMP port unreachable to its error handler as ECONNREFUSED (Bun ${Bun.version})`, async () => {
    const port = await closedPort();
    const calls: Array<{ args: unknown[]; self: unknown }> = [];
    const socket = await Bun.udpSocket({
      connect: { hostname: "127.0.0.1", port },
      socket: {
        error(this: unknown, ...args: unknown[]) {
          calls.push({ args, self: this });
        },
      },
    });
    sockets.push(socket);
    socket.send("anyone?");
    for (let i = 0; i < 100 && calls.length === 0; i++) await Bun.sleep(5);
    expect(calls.length).toBe(1);
    // Bun 1.4.5 passes the error alone, with the socket as `this` (its types say error(socket, error)); _udp.ts takes
    // whichever argument is an Error, so a release that follows the types works too.
    const error = calls[0]!.args.find((arg) => arg instanceof Error) as NodeJS.ErrnoException;
    expect(error.code).toBe("ECONNREFUSED");
    expect(calls[0]!.self === socket || calls[0]!.args[0] === socket).toBe(true);
    expect(socket.closed).toBe(false);
  });

  test("a connected socket gets no datagram from another source (the kernel answers the sender with port unreachable)", async () => {
    const other = await responder(() => {});
    const relayed: number[] = [];
    // The server has `other` send the datagram on, then answers itself: the answer is the sign that the stray
    // datagram was sent first, by the same thread over loopback, so it would have arrived before it.
    const server = await responder((socket, data, port, address) => {
      relayed.push(other.send(data, port, address) ? 1 : 0);
      socket.send("from the server", port, address);
    });
    const received: string[] = [];
    const socket = await Bun.udpSocket({ connect: { hostname: "127.0.0.1", port: server.port }, socket: { data: (_s, data) => void received.push(String(data)) } });
    sockets.push(socket);
    socket.send("hello");
    for (let i = 0; i < 200 && received.length === 0; i++) await Bun.sleep(5);
    expect(relayed).toEqual([1]);
    expect(received).toEqual(["from the server"]);
  });
});

describe("udp exchange", () => {
  test("a reply from the target is judged; latency measured", async () => {
    const server = await echoServer();
    const result = await udpExchange(target(server.port), AbortSignal.timeout(1000), echo("ping"));
    expect(result).toMatchObject({ ok: true });
    expect(result.reason).toBe(`got ping in ${result.latencyMs.toFixed(1)} ms`);
    expect(result.latencyMs).toBeGreaterThan(0);
  });

  test("IPv6", async () => {
    const server = await echoServer(0, "::1");
    expect(await udpExchange(target(server.port, "::1"), AbortSignal.timeout(1000), echo("ping6"))).toMatchObject({ ok: true });
  });

  test("a closed port fails at once with the ICMP reason", async () => {
    const result = await udpExchange(target(await closedPort()), AbortSignal.timeout(1000), echo("x"));
    expect(result).toMatchObject({ ok: false, reason: "ICMP port unreachable" });
    expect(result.latencyMs).toBeLessThan(200);
  });

  test("an ICMP error ends only its own probe: concurrent probes to a live server succeed", async () => {
    const server = await echoServer(30);
    const dead = await closedPort();
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => udpExchange(target(server.port), AbortSignal.timeout(1000), echo(`live-${i}`))),
      ...Array.from({ length: 20 }, () => udpExchange(target(dead), AbortSignal.timeout(1000), echo("dead"))),
    ]);
    expect(results.slice(0, 20).every((r) => r.ok)).toBe(true);
    expect(results.slice(20).map((r) => r.reason)).toEqual(Array(20).fill("ICMP port unreachable"));
  });

  test("silence is a failure, at the timeout", async () => {
    const silent = await responder(() => {});
    const result = await udpExchange(target(silent.port, "127.0.0.1", 150), AbortSignal.timeout(150), echo("x"));
    expect(result).toMatchObject({ ok: false, reason: "timed out after 150 ms" });
    expect(result.latencyMs).toBeGreaterThanOrEqual(140);
    expect(result.latencyMs).toBeLessThan(1000);
  });

  test("a reply sent from another port never counts: the probe times out", async () => {
    const other = await responder(() => {});
    const server = await responder((_socket, data, port, address) => other.send(data, port, address));
    const result = await udpExchange(target(server.port, "127.0.0.1", 150), AbortSignal.timeout(150), echo("x"));
    expect(result).toMatchObject({ ok: false, reason: "timed out after 150 ms" });
  });

  test("a provisional judgement keeps waiting and is named if the probe then times out", async () => {
    const server = await echoServer();
    const exchange: UdpExchange = { request: new Uint8Array([1]), judge: () => ({ provisional: "SIP 100 Trying" }) };
    const result = await udpExchange(target(server.port, "127.0.0.1", 100), AbortSignal.timeout(100), exchange);
    expect(result).toMatchObject({ ok: false, reason: "timed out after 100 ms (last reply: SIP 100 Trying)" });
  });

  test("the request may be built from the socket's local address", async () => {
    const server = await echoServer();
    let local: { address: string; port: number } | undefined;
    const exchange: UdpExchange = {
      request: (address) => {
        local = address;
        return new TextEncoder().encode(`${address.address}:${address.port}`);
      },
      judge: (reply) => ({ ok: true, reason: new TextDecoder().decode(reply) }),
    };
    const result = await udpExchange(target(server.port), AbortSignal.timeout(1000), exchange);
    expect(local?.address).toBe("127.0.0.1");
    expect(local?.port).toBeGreaterThan(0);
    expect(result.reason).toStartWith(`127.0.0.1:${local!.port} in `);
  });

  test("a judge that throws is a failure, not a crash", async () => {
    const server = await echoServer();
    const exchange: UdpExchange = {
      request: new Uint8Array([1]),
      judge: () => {
        throw new Error("boom");
      },
    };
    expect(await udpExchange(target(server.port), AbortSignal.timeout(1000), exchange)).toMatchObject({ ok: false, reason: "reply not understood: boom" });
  });

  test("a cancelled probe says so and releases its socket at once", async () => {
    const silent = await responder(() => {});
    const controller = new AbortController();
    const pending = udpExchange(target(silent.port), controller.signal, echo("x"));
    for (let i = 0; i < 100 && socketsConnectedTo(silent.port) === 0; i++) await Bun.sleep(2);
    expect(socketsConnectedTo(silent.port)).toBe(1);
    controller.abort();
    const result = await pending;
    expect(result).toMatchObject({ ok: false, reason: "cancelled" });
    expect(socketsConnectedTo(silent.port)).toBe(0);
  });

  test("an already aborted signal fails without opening a socket", async () => {
    const silent = await responder(() => {});
    const result = await udpExchange(target(silent.port), AbortSignal.abort(), echo("x"));
    expect(result).toMatchObject({ ok: false, reason: "cancelled", latencyMs: expect.any(Number) });
    expect(socketsConnectedTo(silent.port)).toBe(0);
  });

  test("an abort while the socket is being made closes it as soon as it exists", async () => {
    const silent = await responder(() => {});
    const controller = new AbortController();
    // The socket the probe asks Bun for, seen as it is made: the sign that the code under test got that far.
    const bun = Bun as unknown as { udpSocket: (options: unknown) => Promise<{ closed: boolean }> };
    const make = bun.udpSocket;
    let made: Promise<{ closed: boolean }> | undefined;
    bun.udpSocket = (options) => (made = make(options));
    let pending: Promise<ProbeResult>;
    try {
      pending = udpExchange(target(silent.port), controller.signal, echo("x"));
    } finally {
      bun.udpSocket = make;
    }
    controller.abort();
    expect((await pending).reason).toBe("cancelled");
    expect(made).toBeDefined();
    const socket = await made!;
    for (let i = 0; i < 100 && !socket.closed; i++) await Bun.sleep(5);
    expect(socket.closed).toBe(true);
    expect(socketsConnectedTo(silent.port)).toBe(0);
  });

  test("the abort listener is removed when the probe settles, whatever the outcome", async () => {
    const server = await echoServer();
    const silent = await responder(() => {});
    const dead = await closedPort();
    for (const [port, timeout] of [
      [server.port, 1000],
      [dead, 1000],
      [silent.port, 50],
    ] as const) {
      const controller = new AbortController();
      let listeners = 0;
      const signal = controller.signal;
      const add = signal.addEventListener.bind(signal);
      const remove = signal.removeEventListener.bind(signal);
      signal.addEventListener = ((...args: Parameters<typeof add>) => {
        listeners++;
        add(...args);
      }) as typeof signal.addEventListener;
      signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
        listeners--;
        remove(...args);
      }) as typeof signal.removeEventListener;
      const timer = setTimeout(() => controller.abort(new DOMException("timeout", "TimeoutError")), timeout);
      await udpExchange(target(port), signal, echo("x"));
      clearTimeout(timer);
      expect(listeners).toBe(0);
    }
  });

  test("no socket is left behind after many probes of every outcome", async () => {
    const server = await echoServer();
    const dead = await closedPort();
    await Promise.all(Array.from({ length: 50 }, (_, i) => udpExchange(target(i % 2 ? server.port : dead), AbortSignal.timeout(1000), echo(`n${i}`))));
    expect(socketsConnectedTo(server.port)).toBe(0);
    expect(socketsConnectedTo(dead)).toBe(0);
  });
});
