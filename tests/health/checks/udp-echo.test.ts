/**
 * udp_echo: the bytes it sends and requires (pure), then against socat, a UDP echo server we did not write: healthy,
 * a one-way socat (the roadmap's `socat -u` example) that never answers, a socat that answers other bytes, and a
 * stopped server taken down through the real HealthMonitor within fail_after × interval.
 */

import { describe, expect, test } from "bun:test";
import { createUdpEchoChecker, echoBytes, echoExchange, echoNonce, judgeEcho } from "../../../src/health/checks/udp-echo.ts";
import type { HealthFile } from "../../../src/health/types.ts";
import { testDownAfterStop } from "./support/down-after-stop.ts";
import { describeWithPeers, findBinary, freeUdpPort, startPeer, type Peer } from "./support/peers.ts";
import { checkScope, targetFor } from "./support/scope.ts";

const udpEchoChecker = createUdpEchoChecker();

const HEALTH: HealthFile = { enabled: true, type: "udp_echo", port: 0, interval_ms: 1000, timeout_ms: 900, fail_after: 3, recover_after: 2 };
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("udp_echo bytes", () => {
  test("defaults: payload PING, expect the payload, nonce on", () => {
    const bytes = echoBytes(HEALTH);
    expect(text(bytes.payload)).toBe("PING");
    expect(text(bytes.expect)).toBe("PING");
    expect(bytes.nonce).toBe(true);
  });

  test("expect defaults to the payload's bytes, from payload_hex too", () => {
    expect(hex(echoBytes({ ...HEALTH, payload_hex: "00ff10" }).expect)).toBe("00ff10");
    expect(text(echoBytes({ ...HEALTH, payload: "héllo" }).expect)).toBe("héllo");
  });

  test("expect and expect_hex override; nonce: false turns the nonce off", () => {
    expect(text(echoBytes({ ...HEALTH, payload: "PING", expect: "PONG" }).expect)).toBe("PONG");
    expect(hex(echoBytes({ ...HEALTH, payload: "PING", expect_hex: "0a0b" }).expect)).toBe("0a0b");
    expect(echoBytes({ ...HEALTH, nonce: false }).nonce).toBe(false);
    expect(echoBytes({ ...HEALTH, nonce: true }).nonce).toBe(true);
  });

  test("the nonce is lbctl-<unix-nanos>-<16 hex>, unique per probe", () => {
    const nonces = Array.from({ length: 2000 }, () => echoNonce());
    for (const nonce of nonces.slice(0, 20)) expect(nonce).toMatch(/^lbctl-\d{19}-[0-9a-f]{16}$/);
    expect(new Set(nonces).size).toBe(nonces.length);
    const nanos = Number(/^lbctl-(\d+)-/.exec(nonces[0]!)![1]);
    expect(Math.abs(nanos / 1e6 - Date.now())).toBeLessThan(5000);
  });

  test("request <payload>:<nonce>, reply <expect>:<nonce>; the nonce is ASCII after binary bytes", () => {
    const { request, reply } = echoExchange(echoBytes({ ...HEALTH, payload_hex: "0001", expect_hex: "ff" }), "lbctl-1-abc");
    expect(hex(request)).toBe(`0001${Buffer.from(":lbctl-1-abc").toString("hex")}`);
    expect(hex(reply)).toBe(`ff${Buffer.from(":lbctl-1-abc").toString("hex")}`);
    const plain = echoExchange(echoBytes({ ...HEALTH, payload: "PING", expect: "PONG", nonce: false }), undefined);
    expect([text(plain.request), text(plain.reply)]).toEqual(["PING", "PONG"]);
  });

  test("judging: exact bytes only, with a reason that shows what came back", () => {
    const expected = new TextEncoder().encode("PING:lbctl-1-abc");
    const ping = new TextEncoder().encode("PING");
    expect(judgeEcho(expected, expected, ping)).toEqual({ ok: true, reason: "echo of 16 bytes" });
    expect(judgeEcho(new TextEncoder().encode("PING:lbctl-1-abd"), expected, ping)).toEqual({
      ok: false,
      reason: 'reply does not match (wrong or missing nonce): got "PING:lbctl-1-abd" (16 bytes), expected "PING:lbctl-1-abc" (16 bytes)',
    });
    expect(judgeEcho(ping, expected, ping)).toMatchObject({ ok: false, reason: expect.stringContaining("(wrong or missing nonce)") });
    // One byte more is a mismatch too: byte for byte means no trailing newline either.
    expect(judgeEcho(new TextEncoder().encode("PING:lbctl-1-abc\n"), expected, ping)).toMatchObject({ ok: false });
    expect(judgeEcho(new Uint8Array([0, 1, 2]), expected, ping)).toMatchObject({ ok: false, reason: 'reply does not match: got 0x000102 (3 bytes), expected "PING:lbctl-1-abc" (16 bytes)' });
    // A flood is shown as its first 48 bytes only.
    const flood = judgeEcho(new Uint8Array(60_000).fill(0x41), expected, ping);
    expect(flood).toMatchObject({ ok: false, reason: expect.stringContaining(`"${"A".repeat(48)}…" (60000 bytes)`) });
  });
});

const target = targetFor(HEALTH);


const scope = checkScope();

async function socat(...args: string[]): Promise<Peer> {
  const port = await freeUdpPort();
  const peer = await startPeer([findBinary("socat")!, ...args.map((arg) => arg.replaceAll("PORT", `${port}`))], "udp", port);
  scope.peers.push(peer);
  return peer;
}

/** The working echo server of docs/udp-health-checks.md: one process per datagram, which cat sends back unchanged. */
const socatEcho = () => socat("UDP-RECVFROM:PORT,fork", "EXEC:cat");

describeWithPeers("udp_echo against socat", ["socat", "ss"], () => {
  test("healthy against socat's other echo form, PIPE (one process per datagram, no exec)", async () => {
    const server = await socat("UDP-RECVFROM:PORT,fork", "PIPE");
    expect(await udpEchoChecker.probe(target(server.port), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
  });

  test("healthy against a socat echo server, with the nonce, without it, and with binary bytes", async () => {
    const server = await socatEcho();
    const withNonce = await udpEchoChecker.probe(target(server.port), AbortSignal.timeout(2000));
    expect(withNonce).toMatchObject({ ok: true, reason: expect.stringMatching(/^echo of 47 bytes in \d+(\.\d)? ms$/) });
    expect(await udpEchoChecker.probe(target(server.port, { nonce: false, payload: "hello" }), AbortSignal.timeout(2000))).toMatchObject({ ok: true, reason: expect.stringContaining("echo of 5 bytes") });
    expect(await udpEchoChecker.probe(target(server.port, { payload_hex: "00ff7f0a" }), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
  });

  test("the roadmap's one-way `socat -u` never answers: unhealthy", async () => {
    const server = await socat("-u", "UDP4-LISTEN:PORT,fork", "EXEC:/bin/cat");
    const result = await udpEchoChecker.probe(target(server.port, { timeout_ms: 300 }), AbortSignal.timeout(300));
    expect(result).toMatchObject({ ok: false, reason: "timed out after 300 ms" });
  });

  test("a server that answers other bytes is unhealthy, and the reason shows them", async () => {
    const server = await socat("UDP-RECVFROM:PORT,fork", "EXEC:tr I O");
    const result = await udpEchoChecker.probe(target(server.port), AbortSignal.timeout(2000));
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^reply does not match: got "PONG:lbctl-\d{19}-[0-9a-f]{16}" \(47 bytes\), expected "PING:lbctl-/);
  });

  test("a server with a fixed answer passes only with nonce: false", async () => {
    const server = await socat("UDP-RECVFROM:PORT,fork", "SYSTEM:printf OK");
    expect(await udpEchoChecker.probe(target(server.port, { nonce: false, expect: "OK" }), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
    expect(await udpEchoChecker.probe(target(server.port, { expect: "OK" }), AbortSignal.timeout(2000))).toMatchObject({
      ok: false,
      reason: expect.stringContaining("(wrong or missing nonce)"),
    });
  });

  testDownAfterStop(scope, {
    peerName: "socat",
    protocol: "udp",
    health: { type: "udp_echo" },
    start: () => socatEcho(),
    reason: "ICMP port unreachable",
    also: (watched) => expect(watched.results.at(-1)!.latencyMs).toBeLessThan(100),
  });
});
