/**
 * The http check against busybox httpd, an HTTP server we did not write, on a loopback port: a page (200), a CGI
 * answering 500, a missing page (404), a stopped server through the real monitor. Then the cases a real server
 * will not produce on demand, from small listeners: silence before and after the handshake, endless or non-HTTP
 * bytes, the request as sent.
 */

import { expect, test } from "bun:test";
import { httpChecker } from "../../../src/health/checks/http.ts";
import type { HealthFile } from "../../../src/health/types.ts";
import { blackhole, socketsTo, synSentTo } from "../support/blackhole.ts";
import { testDownAfterStop } from "./support/down-after-stop.ts";
import { describeWithPeers, findBinary, freeTcpPort, scratchDir, startPeer, type Peer } from "./support/peers.ts";
import { checkScope, targetFor } from "./support/scope.ts";

const HEALTH: HealthFile = { enabled: true, type: "http", port: 0, interval_ms: 1000, timeout_ms: 500, fail_after: 3, recover_after: 2 };
const target = targetFor(HEALTH);

const scope = checkScope();
/** busybox httpd serving a folder with index.html and a CGI, cgi-bin/fail, that answers 500. */
async function httpd(): Promise<Peer> {
  const port = freeTcpPort();
  const dir = scratchDir("httpd");
  scope.cleanups.push(dir.remove);
  dir.write("index.html", "<p>up</p>\n");
  await Bun.$`mkdir -p ${dir.path}/cgi-bin`.quiet();
  dir.write("cgi-bin/fail", '#!/bin/sh\nprintf "Status: 500 Internal Server Error\\r\\nContent-Type: text/plain\\r\\n\\r\\nbroken\\n"\n', 0o755);
  const peer = await startPeer([findBinary("busybox")!, "httpd", "-f", "-p", `127.0.0.1:${port}`, "-h", dir.path], "tcp", port);
  scope.peers.push(peer);
  return peer;
}

describeWithPeers("http against busybox httpd", ["busybox", "ss"], () => {
  test("a page is healthy; the default path is /", async () => {
    const server = await httpd();
    expect(await httpChecker.probe(target(server.port), AbortSignal.timeout(2000))).toMatchObject({ ok: true, reason: expect.stringMatching(/^HTTP 200 OK in \d+(\.\d)? ms$/) });
    expect(await httpChecker.probe(target(server.port, { http_path: "/index.html", http_host: "app.example.com" }), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
  });

  test("a CGI answering 500 is unhealthy", async () => {
    const server = await httpd();
    expect(await httpChecker.probe(target(server.port, { http_path: "/cgi-bin/fail" }), AbortSignal.timeout(2000))).toMatchObject({
      ok: false,
      reason: "HTTP 500 Internal Server Error, expected 200-399",
    });
    expect(await httpChecker.probe(target(server.port, { http_path: "/cgi-bin/fail", http_status: [[200, 299], [500, 500]] }), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
  });

  test("a missing page is 404: unhealthy with the default range", async () => {
    const server = await httpd();
    expect(await httpChecker.probe(target(server.port, { http_path: "/nope" }), AbortSignal.timeout(2000))).toMatchObject({ ok: false, reason: "HTTP 404 Not Found, expected 200-399" });
  });

  testDownAfterStop(scope, {
    peerName: "httpd",
    protocol: "tcp",
    health: { type: "http" },
    start: () => httpd(),
    reason: "connection refused",
  });
});

/** A listener that hands every connection to `onOpen` and records what it receives. */
function listener(onOpen: (socket: import("bun").Socket<{ received: string }>) => void, hostname = "127.0.0.1") {
  const received: string[] = [];
  const server = Bun.listen<{ received: string }>({
    hostname,
    port: 0,
    socket: {
      open(socket) {
        socket.data = { received: "" };
        onOpen(socket);
      },
      data(socket, data) {
        socket.data.received += data.toString();
        received.push(data.toString());
      },
      close() {},
      error() {},
    },
  });
  scope.cleanups.push(() => server.stop(true));
  return { port: server.port, received };
}

test("the request: GET http_path with Host (default: address and port), one line each, nothing else", async () => {
  const server = listener((socket) => void socket.write("HTTP/1.1 204 No Content\r\n\r\n"));
  expect(await httpChecker.probe(target(server.port), AbortSignal.timeout(2000))).toMatchObject({ ok: true, reason: expect.stringContaining("HTTP 204 No Content") });
  await Bun.sleep(20);
  expect(server.received.join("")).toBe(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUser-Agent: lbctl health check\r\nAccept: */*\r\nConnection: close\r\n\r\n`);
});

test("IPv6", async () => {
  const server = listener((socket) => void socket.write("HTTP/1.1 200 OK\r\n\r\n"), "::1");
  expect(await httpChecker.probe(target(server.port, {}, "::1"), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
  await Bun.sleep(20);
  expect(server.received.join("")).toContain(`Host: [::1]:${server.port}\r\n`);
});

test("the body is never read: a 50 MB response costs one status line, and the connection is reset (no TIME_WAIT)", async () => {
  const body = Buffer.alloc(50 * 1024 * 1024, 0x61);
  const server = listener((socket) => {
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 52428800\r\n\r\n");
    socket.write(body);
  });
  const result = await httpChecker.probe(target(server.port), AbortSignal.timeout(2000));
  expect(result).toMatchObject({ ok: true });
  expect(await socketsTo(server.port, "06")).toBe(0);
});

test("endless bytes without a line end fail at the bound, not at the timeout", async () => {
  const server = listener((socket) => void socket.write(`HTTP/1.1 200 ${"x".repeat(100_000)}`));
  const result = await httpChecker.probe(target(server.port), AbortSignal.timeout(2000));
  expect(result).toMatchObject({ ok: false, reason: "malformed HTTP response: no status line in the first 1024 bytes" });
  expect(result.latencyMs).toBeLessThan(1000);
});

test("a server that is not HTTP fails with what it said", async () => {
  const server = listener((socket) => void socket.write("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"));
  expect(await httpChecker.probe(target(server.port), AbortSignal.timeout(2000))).toMatchObject({ ok: false, reason: "not an HTTP response: SSH-2.0-OpenSSH_9.2p1 Debian-2" });
});

test("a server that closes without answering", async () => {
  const server = listener((socket) => void socket.end());
  expect(await httpChecker.probe(target(server.port), AbortSignal.timeout(2000))).toMatchObject({ ok: false, reason: "connection closed before a status line" });
});

test("a server that accepts and says nothing fails at the timeout, its socket released", async () => {
  const server = listener(() => {});
  const result = await httpChecker.probe(target(server.port, { timeout_ms: 150 }), AbortSignal.timeout(150));
  expect(result).toMatchObject({ ok: false, reason: "timed out after 150 ms (connected, no status line)" });
  expect(await socketsTo(server.port, "01")).toBe(0);
});

test("a host that never completes the handshake: timed out, and no connection attempt left behind", async () => {
  const hole = await blackhole();
  scope.cleanups.push(() => hole.close());
  for (let i = 0; i < 3; i++) {
    expect(await httpChecker.probe(target(hole.port, { timeout_ms: 100 }), AbortSignal.timeout(100))).toMatchObject({ ok: false, reason: "timed out after 100 ms" });
  }
  expect(await synSentTo(hole.port)).toBe(0);
});

test("a cancelled probe says so; an already aborted one never connects", async () => {
  const server = listener(() => {});
  const controller = new AbortController();
  const pending = httpChecker.probe(target(server.port), controller.signal);
  await Bun.sleep(20);
  controller.abort();
  expect(await pending).toMatchObject({ ok: false, reason: "cancelled" });
  expect(await httpChecker.probe(target(server.port), AbortSignal.abort())).toMatchObject({ ok: false, reason: "cancelled" });
});
