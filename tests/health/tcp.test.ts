/**
 * The TCP check against real local sockets: a listener, a closed port, a port that never answers, IPv6. The contract
 * is run against both probers (native, and the Bun.connect fallback); what differs is tested per prober.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { createTcpChecker, type TcpChecker, type TcpEngine } from "../../src/health/checks/tcp.ts";
import type { ProbeTarget } from "../../src/health/types.ts";
import { blackhole, socketsTo, synSentTo, type Blackhole } from "./support/blackhole.ts";

const HEALTH = { enabled: true, type: "tcp" as const, port: 0, interval_ms: 1000, timeout_ms: 300, fail_after: 3, recover_after: 2 };

const probeTarget = (port: number, address = "127.0.0.1", timeout_ms = 300): ProbeTarget => ({
  address,
  port,
  family: address.includes(":") ? 6 : 4,
  health: { ...HEALTH, timeout_ms },
});

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function listener(hostname = "127.0.0.1") {
  let accepted = 0;
  const server = Bun.listen({
    hostname,
    port: 0,
    socket: {
      open() {
        accepted++;
      },
      data() {},
      close() {},
      error() {},
    },
  });
  cleanups.push(() => server.stop(true));
  return { port: server.port, accepted: () => accepted, stop: () => server.stop(true) };
}

/** Polls `read` until `done` holds or 3 s pass; returns the last value (loaded CI hosts are slow, not wrong). */
async function eventually<T>(read: () => T | Promise<T>, done: (value: T) => boolean = Boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 150 && !done(value); i++) {
    await Bun.sleep(20);
    value = await read();
  }
  return value;
}

async function silentPort(port = 0): Promise<Blackhole> {
  const hole = await blackhole(port);
  cleanups.push(() => hole.close());
  return hole;
}

test("the native prober is the default where libc can be bound", () => {
  expect(createTcpChecker().engine).toBe("native");
});

for (const engine of ["native", "bun"] as const satisfies TcpEngine[]) {
  describe(`tcp check (${engine} prober)`, () => {
    const tcpChecker: TcpChecker = createTcpChecker({ engine });

    test("runs on the prober asked for", () => {
      expect(tcpChecker.engine).toBe(engine);
    });

    test("a listening port is healthy; the latency is measured and reported", async () => {
      const server = listener();
      const result = await tcpChecker.probe(probeTarget(server.port), AbortSignal.timeout(1000));
      expect(result.ok).toBe(true);
      expect(result.reason).toMatch(/^connected in \d+\.\d ms$/);
      expect(result.latencyMs).toBeGreaterThan(0);
      expect(result.latencyMs).toBeLessThan(1000);
      expect(result.reason).toBe(`connected in ${result.latencyMs.toFixed(1)} ms`);
      expect(await eventually(() => server.accepted())).toBe(1);
    });

    test("the connection is closed with a reset: no TIME_WAIT left behind", async () => {
      const server = listener();
      for (let i = 0; i < 5; i++) expect((await tcpChecker.probe(probeTarget(server.port), AbortSignal.timeout(1000))).ok).toBe(true);
      expect(await socketsTo(server.port, "06")).toBe(0);
    });

    test("a closed port fails at once with connection refused", async () => {
      const server = listener();
      const port = server.port;
      server.stop();
      const result = await tcpChecker.probe(probeTarget(port), AbortSignal.timeout(1000));
      expect(result).toMatchObject({ ok: false, reason: "connection refused" });
      // Refused at once: nowhere near a timeout.
      expect(result.latencyMs).toBeLessThan(500);
    });

    test("IPv6", async () => {
      const server = listener("::1");
      const result = await tcpChecker.probe(probeTarget(server.port, "::1"), AbortSignal.timeout(1000));
      expect(result.ok).toBe(true);
    });

    test("a port that never answers fails when the signal times out, after timeout_ms", async () => {
      const hole = await silentPort();
      const result = await tcpChecker.probe(probeTarget(hole.port, "127.0.0.1", 200), AbortSignal.timeout(200));
      expect(result).toMatchObject({ ok: false, reason: "timed out after 200 ms" });
      expect(result.latencyMs).toBeGreaterThanOrEqual(190);
      expect(result.latencyMs).toBeLessThan(1000);
    });

    test("a silent endpoint that starts listening is healthy again, its connection reset", async () => {
      const hole = await blackhole();
      const port = hole.port;
      await tcpChecker.probe(probeTarget(port, "127.0.0.1", 100), AbortSignal.timeout(100));
      hole.close();
      expect(await eventually(() => synSentTo(port), (n) => n === 0)).toBe(0);
      let accepted = 0;
      const server = Bun.listen({ hostname: "127.0.0.1", port, socket: { open: () => void accepted++, data() {}, close() {}, error() {} } });
      cleanups.push(() => server.stop(true));
      // Still on the cancellable (node:net) path: this answer is what moves it back.
      const result = await tcpChecker.probe(probeTarget(port), AbortSignal.timeout(1000));
      expect(result.ok).toBe(true);
      expect(result.reason).toMatch(/^connected in \d+\.\d ms$/);
      expect(await eventually(() => accepted)).toBe(1);
      expect(await socketsTo(port, "06")).toBe(0);
    }, 10_000);

    test("one signal reused by a target's probes, then shared by probes in flight: an abort ends every one of them", async () => {
      const server = listener();
      const controller = new AbortController();
      // The scheduler hands a target's probes the same signal until one aborts.
      for (let i = 0; i < 3; i++) expect((await tcpChecker.probe(probeTarget(server.port), controller.signal)).ok).toBe(true);
      const holes = [await silentPort(), await silentPort()];
      const pending = holes.map((hole) => tcpChecker.probe(probeTarget(hole.port, "127.0.0.1", 5000), controller.signal));
      // Both attempts are in the kernel (SYN sent) before the abort.
      for (const hole of holes) expect(await eventually(() => synSentTo(hole.port), (n) => n === 1)).toBe(1);
      controller.abort(new DOMException("late", "TimeoutError"));
      const results = await Promise.all(pending);
      expect(results.map((r) => r.reason)).toEqual(["timed out after 5000 ms", "timed out after 5000 ms"]);
      expect(results.every((r) => r.latencyMs < 5000)).toBe(true);
    });

    test("an already aborted signal fails without connecting", async () => {
      const server = listener();
      const result = await tcpChecker.probe(probeTarget(server.port), AbortSignal.abort(new DOMException("late", "TimeoutError")));
      expect(result).toMatchObject({ ok: false, reason: "timed out after 300 ms" });
      expect(server.accepted()).toBe(0);
      // A probe that runs connects and is accepted. A connection of the aborted probe would have been queued before
      // it, and the listener accepts what is queued in one go: once one accept is seen, both would be.
      expect(await tcpChecker.probe(probeTarget(server.port), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
      await eventually(() => server.accepted(), (n) => n >= 1);
      expect(server.accepted()).toBe(1);
    });
  });
}

describe("tcp check: the native prober closes what it gave up on", () => {
  const tcpChecker = createTcpChecker({ engine: "native" });

  test("a silent endpoint probed again and again leaves no connection attempt behind", async () => {
    const hole = await silentPort();
    for (let i = 0; i < 3; i++) {
      const pending = tcpChecker.probe(probeTarget(hole.port, "127.0.0.1", 100), AbortSignal.timeout(100));
      // The attempt is in the kernel (SYN sent) while the probe runs ...
      expect(await eventually(() => synSentTo(hole.port), (n) => n === 1)).toBe(1);
      expect((await pending).reason).toBe("timed out after 100 ms");
      // ... and gone once it timed out.
      expect(await synSentTo(hole.port)).toBe(0);
    }
    expect(tcpChecker.strayConnectionAttempts()).toBe(0);
  });

  test("a cancelled probe says so and releases its socket at once", async () => {
    const hole = await silentPort();
    const controller = new AbortController();
    const pending = tcpChecker.probe(probeTarget(hole.port), controller.signal);
    expect(await eventually(() => synSentTo(hole.port), (n) => n === 1)).toBe(1);
    controller.abort(new DOMException("Health checks stopped", "AbortError"));
    expect((await pending).reason).toBe("cancelled");
    expect(await synSentTo(hole.port)).toBe(0);
  });

  test("refused on IPv6 too", async () => {
    const server = listener("::1");
    const port = server.port;
    server.stop();
    expect(await tcpChecker.probe(probeTarget(port, "::1"), AbortSignal.timeout(1000))).toMatchObject({ ok: false, reason: "connection refused" });
  });
});

describe("tcp check: the Bun.connect prober cannot cancel a connection attempt", () => {
  const tcpChecker = createTcpChecker({ engine: "bun" });
  const strayConnectionAttempts = () => tcpChecker.strayConnectionAttempts();

  test("a silent endpoint keeps at most one connection attempt however often it is probed", async () => {
    const hole = await silentPort();
    const strays = strayConnectionAttempts();
    for (let i = 0; i < 4; i++) {
      const result = await tcpChecker.probe(probeTarget(hole.port, "127.0.0.1", 100), AbortSignal.timeout(100));
      expect(result.reason).toBe("timed out after 100 ms");
    }
    // The first attempt cannot be cancelled and keeps retrying SYNs; the later ones were destroyed on time.
    expect(strayConnectionAttempts()).toBe(strays + 1);
    expect(await synSentTo(hole.port)).toBe(1);
    // Once the listener goes away the stray attempt is refused and forgotten.
    hole.close();
    for (let i = 0; i < 50 && strayConnectionAttempts() > strays; i++) await Bun.sleep(100);
    expect(strayConnectionAttempts()).toBe(strays);
  }, 15_000);

  test("an endpoint that answers again goes back to the fast path", async () => {
    const hole = await blackhole();
    const port = hole.port;
    await tcpChecker.probe(probeTarget(port, "127.0.0.1", 100), AbortSignal.timeout(100));
    hole.close();
    // Refused: an answer, so the endpoint is no longer treated as silent.
    expect((await tcpChecker.probe(probeTarget(port), AbortSignal.timeout(1000))).reason).toBe("connection refused");
    for (let i = 0; i < 50 && (await synSentTo(port)) > 0; i++) await Bun.sleep(100);
    // Silent again: the fast path leaves one stray attempt; the cancellable path would leave none.
    const again = await silentPort(port);
    const before = strayConnectionAttempts();
    expect((await tcpChecker.probe(probeTarget(again.port, "127.0.0.1", 100), AbortSignal.timeout(100))).reason).toBe("timed out after 100 ms");
    expect(strayConnectionAttempts()).toBe(before + 1);
  });

  test("a cancelled probe says so and releases its socket", async () => {
    const hole = await silentPort();
    // First probe makes the endpoint silent; the second runs on the cancellable path.
    await tcpChecker.probe(probeTarget(hole.port, "127.0.0.1", 100), AbortSignal.timeout(100));
    const controller = new AbortController();
    const pending = tcpChecker.probe(probeTarget(hole.port), controller.signal);
    expect(await eventually(() => synSentTo(hole.port), (n) => n === 2)).toBe(2);
    controller.abort(new DOMException("Health checks stopped", "AbortError"));
    expect((await pending).reason).toBe("cancelled");
    expect(await eventually(() => synSentTo(hole.port), (n) => n === 1)).toBe(1);
  });
});
