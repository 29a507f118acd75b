/**
 * `http_weight_header`: a passing http probe reports the weight a backend gives in a response header, as kube-proxy
 * does on a Service's healthCheckNodePort (200 with X-Load-Balancing-Endpoint-Weight: <local endpoints>, 503 with 0
 * when it has none). The decoding on bytes, then the checker and the real monitor against a real HTTP server that
 * answers the way kube-proxy does.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { httpChecker } from "../../../src/health/checks/http.ts";
import { decodeHeaderField, MAX_HEAD, parseReportedWeight } from "../../../src/health/checks/http/message.ts";
import { HealthMonitor } from "../../../src/health/monitor.ts";
import { healthTargets } from "../../../src/health/targets.ts";
import type { HealthFile, ProbeEvent } from "../../../src/health/types.ts";
import { configFrom, service } from "../../support/load-helpers.ts";
import { targetFor } from "./support/scope.ts";

const HEADER = "X-Load-Balancing-Endpoint-Weight";
const HEALTH: HealthFile = { enabled: true, type: "http", port: 0, interval_ms: 200, timeout_ms: 150, fail_after: 2, recover_after: 1, http_weight_header: HEADER };
const target = targetFor(HEALTH);
const bytes = (text: string) => new TextEncoder().encode(text);

describe("decoding the weight header", () => {
  test("undefined until the head ends, then the field's value (any case, first wins) or null", () => {
    expect(decodeHeaderField(bytes("HTTP/1.1 200 OK\r\nX-Load-Balancing-Endpoint-Weight: 3\r\n"), HEADER)).toBeUndefined();
    expect(decodeHeaderField(bytes("HTTP/1.1 200 OK\r\nx-load-balancing-endpoint-weight:  3 \r\nX-Load-Balancing-Endpoint-Weight: 9\r\n\r\n{}"), HEADER)).toBe("3");
    expect(decodeHeaderField(bytes("HTTP/1.1 200 OK\nContent-Type: application/json\n\n"), HEADER)).toBeNull();
    expect(decodeHeaderField(bytes("HTTP/1.1 200 OK\r\nX-Load-Balancing-Endpoint-Weight-Extra: 3\r\n\r\n"), HEADER)).toBeNull();
  });

  test("a head longer than MAX_HEAD is an error, not an endless read", () => {
    const endless = bytes(`HTTP/1.1 200 OK\r\nX-Pad: ${"a".repeat(MAX_HEAD)}`);
    expect(() => decodeHeaderField(endless, HEADER)).toThrow(`no end of the header fields in the first ${MAX_HEAD} bytes`);
  });

  test("weights are decimal integers, capped at 65535", () => {
    expect(parseReportedWeight("0")).toBe(0);
    expect(parseReportedWeight("3")).toBe(3);
    expect(parseReportedWeight("70000")).toBe(65535);
    for (const bad of ["", "-1", "1.5", "three", "0x10", "1 2"]) expect(parseReportedWeight(bad)).toBeUndefined();
  });
});

/** kube-proxy's healthCheckNodePort: 200 and the weight while the node has local endpoints, 503 and 0 without. */
function kubeProxy(initial: number | string | undefined) {
  const state = { weight: initial, requests: 0 };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch() {
      state.requests++;
      const count = state.weight;
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      if (count !== undefined) headers[HEADER] = String(count);
      const local = typeof count === "number" ? count : 1;
      return new Response(JSON.stringify({ service: { namespace: "shop", name: "web" }, localEndpoints: local, serviceProxyHealthy: true }), { status: local > 0 ? 200 : 503, headers });
    },
  });
  return { state, port: server.port as number, stop: () => server.stop(true) };
}

let servers: Array<{ stop(): void }> = [];
afterEach(() => {
  for (const server of servers) server.stop();
  servers = [];
});
function start(weight: number | string | undefined) {
  const server = kubeProxy(weight);
  servers.push(server);
  return server;
}

describe("the http checker with http_weight_header", () => {
  test("200 with the header: healthy, reporting the weight", async () => {
    const server = start(3);
    const result = await httpChecker.probe(target(server.port), AbortSignal.timeout(2000));
    expect(result).toMatchObject({ ok: true, weight: 3, reason: expect.stringMatching(/^HTTP 200 OK, X-Load-Balancing-Endpoint-Weight: 3 in \d/) });
  });

  test("503 with weight 0 (no local endpoints): unhealthy, as kube-proxy means it", async () => {
    const server = start(0);
    const result = await httpChecker.probe(target(server.port), AbortSignal.timeout(2000));
    expect(result).toMatchObject({ ok: false, reason: "HTTP 503 Service Unavailable, expected 200-399" });
    expect(result.weight).toBeUndefined();
  });

  test("no header: healthy without a weight (the configured one applies); without the key the header is ignored", async () => {
    const bare = start(undefined);
    const result = await httpChecker.probe(target(bare.port), AbortSignal.timeout(2000));
    expect(result).toMatchObject({ ok: true, reason: expect.stringContaining(`without ${HEADER}`) });
    expect(result.weight).toBeUndefined();
    const reporting = start(4);
    const plain = await httpChecker.probe(target(reporting.port, { http_weight_header: undefined }), AbortSignal.timeout(2000));
    expect(plain.ok).toBe(true);
    expect(plain.weight).toBeUndefined();
  });

  test("a header that is not a weight fails the probe, saying so", async () => {
    const server = start("many");
    expect(await httpChecker.probe(target(server.port), AbortSignal.timeout(2000))).toMatchObject({
      ok: false,
      reason: `HTTP 200 OK with ${HEADER}: "many", expected an integer 0-65535`,
    });
  });
});

test("the monitor: the weight follows the server's answer, and a change on a healthy target is flagged", async () => {
  const server = start(2);
  const config = configFrom({}, [service({ name: "web", ports: [server.port], backends: [{ address: "127.0.0.1" }], health: { enabled: true, type: "http", interval_ms: 200, timeout_ms: 150, http_weight_header: HEADER } })]);
  const targets = healthTargets(config);
  const probes: ProbeEvent[] = [];
  const monitor = new HealthMonitor({ listener: { probe: (event) => void probes.push(event) } });
  monitor.sync(targets, { probeFirst: [targets[0]!.id] });
  const id = targets[0]!.id;
  const until = async (what: string, probe: () => boolean) => {
    const deadline = performance.now() + 5000;
    while (!probe()) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${probes.at(-1)?.result.reason}`);
      await Bun.sleep(10);
    }
  };
  try {
    await until("healthy with weight 2", () => monitor.state(id)?.state === "healthy" && monitor.state(id)?.reportedWeight === 2);
    // The first probe made the transition: that is where the weight is applied, not flagged again.
    expect(probes[0]).toMatchObject({ transition: { to: "healthy" }, weightChanged: false });
    const before = probes.length;
    server.state.weight = 5;
    await until("weight 5", () => monitor.state(id)?.reportedWeight === 5);
    const changes = probes.slice(before).filter((p) => p.weightChanged);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ transition: undefined, health: { state: "healthy", reportedWeight: 5 } });
    // The same weight again: no change flagged.
    const settled = probes.length;
    await until("two more probes", () => probes.length >= settled + 2);
    expect(probes.slice(settled).some((p) => p.weightChanged)).toBe(false);
    // No local endpoints any more: 503, unhealthy after fail_after; the last reported weight is kept (0 wins anyway).
    server.state.weight = 0;
    await until("unhealthy", () => monitor.state(id)?.state === "unhealthy");
    expect(monitor.state(id)?.reportedWeight).toBe(5);
  } finally {
    await monitor.stop();
  }
});
