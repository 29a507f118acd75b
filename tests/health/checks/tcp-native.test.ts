/**
 * The native TCP prober on its own: real sockets and libc, with a failing call injected where a test needs one, and
 * the fall-back to Bun.connect when the binding cannot be made. The check's contract (reasons, timeouts, resets,
 * IPv6) is in tests/health/tcp.test.ts, run against both probers.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { ptr, read } from "bun:ffi";
import { NativeTcpProber, sockaddr } from "../../../src/health/checks/_tcp-native.ts";
import { createTcpChecker } from "../../../src/health/checks/tcp.ts";
import { bindTcpSyscalls, type TcpSyscalls } from "../../../src/ipvs/transport/native.ts";
import type { Checker, ProbeResult, ProbeTarget } from "../../../src/health/types.ts";
import { blackhole } from "../support/blackhole.ts";

const HEALTH = { enabled: true, type: "tcp" as const, port: 0, interval_ms: 1000, timeout_ms: 500, fail_after: 3, recover_after: 2 };
const target = (port: number, address = "127.0.0.1"): ProbeTarget => ({ address, port, family: address.includes(":") ? 6 : 4, health: HEALTH });

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function listener() {
  let accepted = 0;
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: () => void accepted++, data() {}, close() {}, error() {} } });
  cleanups.push(() => server.stop(true));
  return { port: server.port, accepted: () => accepted };
}

/** A checker that records what it was asked and answers at once. */
function recordingChecker(): Checker & { asked: ProbeTarget[] } {
  const asked: ProbeTarget[] = [];
  return { type: "tcp", asked, probe: (t) => (asked.push(t), Promise.resolve({ ok: true, reason: "other prober", latencyMs: 0 })) };
}

/**
 * The real binding, with its errno kept in a buffer of the test's own so one call can be made to fail with a chosen
 * errno: every real failure copies the real errno there, as libc would have set it.
 */
function syscallsWith(overrides: Partial<Record<"socket" | "connect" | "epoll_create1", (errno: Int32Array) => number>>): TcpSyscalls {
  const real = bindTcpSyscalls();
  const realErrno = real.__errno_location()!;
  const errno = new Int32Array(1);
  const copy = (rc: number | bigint) => {
    if (Number(rc) < 0) errno[0] = read.i32(realErrno, 0);
    return rc;
  };
  const wrapped = Object.fromEntries(Object.entries(real).map(([name, fn]) => [name, (...args: unknown[]) => copy((fn as (...a: unknown[]) => number)(...args))]));
  for (const [name, fail] of Object.entries(overrides)) wrapped[name] = () => fail!(errno);
  wrapped.__errno_location = () => ptr(errno);
  return wrapped as unknown as TcpSyscalls;
}

describe("native TCP prober", () => {
  test("a burst of probes larger than one epoll read all connect, and none is left waiting", async () => {
    const servers = Array.from({ length: 4 }, () => listener());
    const prober = new NativeTcpProber(bindTcpSyscalls(), recordingChecker());
    // 600 probes started in one go: their answers take more than one epoll_wait of 256 events.
    const results = await Promise.all(Array.from({ length: 600 }, (_, i) => prober.probe(target(servers[i % 4]!.port), AbortSignal.timeout(5000))));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(prober.pending()).toBe(0);
  });

  test("IPv4 and IPv6 literals become socket addresses; anything else is not one", () => {
    expect([...sockaddr("10.1.2.3", 8080)!]).toEqual([2, 0, 0x1f, 0x90, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
    const v6 = sockaddr("2001:db8::1", 443)!;
    expect(v6.length).toBe(28);
    expect([...v6.subarray(0, 4)]).toEqual([10, 0, 0x01, 0xbb]);
    expect([...v6.subarray(8, 24)]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(sockaddr("backend.example", 80)).toBeNull();
  });

  test("a target that is not an IP literal goes to the other prober; an IP literal never does", async () => {
    const server = listener();
    const other = recordingChecker();
    const prober = new NativeTcpProber(bindTcpSyscalls(), other);
    expect(await prober.probe(target(server.port, "localhost"), AbortSignal.timeout(1000))).toMatchObject({ reason: "other prober" });
    expect((await prober.probe(target(server.port), AbortSignal.timeout(1000))).reason).toMatch(/^connected in /);
    expect(other.asked.map((t) => t.address)).toEqual(["localhost"]);
  });

  test("lbctl out of descriptors: the probe fails with the operator's reason, nothing is sent", async () => {
    const server = listener();
    const prober = new NativeTcpProber(syscallsWith({ socket: (errno) => ((errno[0] = 24), -1) }), recordingChecker());
    const result: ProbeResult = await prober.probe(target(server.port), AbortSignal.timeout(1000));
    expect(result).toMatchObject({ ok: false, reason: "too many open files in lbctl (probe not sent)" });
    await Bun.sleep(50);
    expect(server.accepted()).toBe(0);
  });

  test("a connect that fails at once (not in progress) is reported with its errno's reason", async () => {
    const prober = new NativeTcpProber(syscallsWith({ connect: (errno) => ((errno[0] = 101), -1) }), recordingChecker());
    expect(await prober.probe(target(9), AbortSignal.timeout(1000))).toMatchObject({ ok: false, reason: "network unreachable" });
    const unknown = new NativeTcpProber(syscallsWith({ connect: (errno) => ((errno[0] = 71), -1) }), recordingChecker());
    expect(await unknown.probe(target(9), AbortSignal.timeout(1000))).toMatchObject({ ok: false, reason: "connect failed: errno 71" });
  });

  test("a probe that waits long is polled less and less often: a few dozen polls in 300 ms, not one a millisecond", async () => {
    const hole = await blackhole();
    cleanups.push(() => hole.close());
    const real = bindTcpSyscalls();
    let polls = 0;
    const counting = { ...real, epoll_wait: (...args: Parameters<typeof real.epoll_wait>) => (polls++, real.epoll_wait(...args)) } as TcpSyscalls;
    const prober = new NativeTcpProber(counting, recordingChecker());
    const result = await prober.probe({ ...target(hole.port), health: { ...HEALTH, timeout_ms: 300 } }, AbortSignal.timeout(300));
    expect(result.reason).toBe("timed out after 300 ms");
    // Positive sign first: it was polled at all (more than the first poll), then bounded.
    expect(polls).toBeGreaterThan(5);
    expect(polls).toBeLessThan(60);
  });

  test("the epoll set is closed once idle and opened again by the next probe", async () => {
    const server = listener();
    const prober = new NativeTcpProber(bindTcpSyscalls(), recordingChecker(), 50);
    expect(prober.epollDescriptor()).toBe(-1);
    expect((await prober.probe(target(server.port), AbortSignal.timeout(1000))).ok).toBe(true);
    expect(prober.epollDescriptor()).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < 100 && prober.epollDescriptor() >= 0; i++) await Bun.sleep(20);
    expect(prober.epollDescriptor()).toBe(-1);
    expect((await prober.probe(target(server.port), AbortSignal.timeout(1000))).ok).toBe(true);
    expect(prober.epollDescriptor()).toBeGreaterThanOrEqual(0);
  });
});

describe("fall-back to Bun.connect", () => {
  test("when libc cannot be bound the check says so once and still probes", async () => {
    const warnings: string[] = [];
    const checker = createTcpChecker({
      syscalls: () => {
        throw new Error("libc.so.6: cannot open shared object file");
      },
      warn: (message) => void warnings.push(message),
    });
    expect(checker.engine).toBe("bun");
    expect(warnings).toEqual(["TCP health checks fall back to Bun.connect (more CPU per probe): the native prober is unavailable: libc.so.6: cannot open shared object file"]);
    const server = listener();
    for (let i = 0; i < 2; i++) expect((await checker.probe(target(server.port), AbortSignal.timeout(1000))).ok).toBe(true);
    expect(warnings.length).toBe(1);
  });

  test("a binding whose calls do not work falls back too", () => {
    const warnings: string[] = [];
    const broken = { ...bindTcpSyscalls(), __errno_location: () => null } as unknown as TcpSyscalls;
    expect(createTcpChecker({ syscalls: () => broken, warn: (m) => void warnings.push(m) }).engine).toBe("bun");
    expect(warnings[0]).toContain("__errno_location returned no address");
  });
});
