/**
 * udp_dns against dnsmasq, a DNS server we did not write, on a loopback port: a name it answers (healthy), a name it
 * does not know (NXDOMAIN: unhealthy unless expect_rcode allows it), a stopped server through the real monitor.
 * The wrong answers dnsmasq will not give (another ID, truncated, garbage) come from a tiny responder.
 */

import { afterEach, expect, test } from "bun:test";
import type { udp } from "bun";
import { createUdpDnsChecker } from "../../../src/health/checks/udp-dns.ts";
import type { HealthFile } from "../../../src/health/types.ts";
import { testDownAfterStop } from "./support/down-after-stop.ts";
import { describeWithPeers, findBinary, freeUdpPort, startPeer, type Peer } from "./support/peers.ts";
import { checkScope, targetFor } from "./support/scope.ts";

const udpDnsChecker = createUdpDnsChecker();

const HEALTH: HealthFile = { enabled: true, type: "udp_dns", port: 0, interval_ms: 1000, timeout_ms: 500, fail_after: 3, recover_after: 2, dns_query: "up.lbctl.test" };
const target = targetFor(HEALTH);

const scope = checkScope();
const sockets: Array<udp.Socket<"uint8array">> = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

/**
 * dnsmasq with no upstream and no hosts file: `lbctl.test` is a local domain (unknown names there are NXDOMAIN) and
 * up.lbctl.test is 192.0.2.53. --user=root: no privilege drop (it would need a `nobody` user and changes nothing).
 */
async function dnsmasq(): Promise<Peer> {
  const port = await freeUdpPort();
  const peer = await startPeer(
    [
      findBinary("dnsmasq")!,
      "--keep-in-foreground",
      "--conf-file=/dev/null",
      "--no-resolv",
      "--no-hosts",
      "--bind-interfaces",
      "--listen-address=127.0.0.1",
      `--port=${port}`,
      "--local=/lbctl.test/",
      "--address=/up.lbctl.test/192.0.2.53",
      "--pid-file=",
      "--user=root",
    ],
    "udp",
    port,
  );
  scope.peers.push(peer);
  return peer;
}

/** A responder that answers each query with `answer(query)`. */
async function responder(answer: (query: Uint8Array) => Uint8Array): Promise<number> {
  const socket = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    binaryType: "uint8array",
    socket: { data: (s, data, port, address) => void s.send(answer(data), port, address), error() {} },
  });
  sockets.push(socket);
  return socket.port;
}

/** The query turned into a NOERROR reply with no answers (QR, RA set), then edited by `edit`. */
const replyTo = (query: Uint8Array, edit: (reply: Uint8Array) => void = () => {}) => {
  const reply = query.slice();
  reply[2] = (reply[2]! | 0x80) & 0xff;
  reply[3] = 0x80;
  edit(reply);
  return reply;
};

describeWithPeers("udp_dns against dnsmasq", ["dnsmasq", "ss"], () => {
  test("a name dnsmasq answers is healthy; the reason gives RCODE and answers", async () => {
    const server = await dnsmasq();
    expect(await udpDnsChecker.probe(target(server.port), AbortSignal.timeout(2000))).toMatchObject({ ok: true, reason: expect.stringMatching(/^NOERROR, 1 answer in \d+(\.\d)? ms$/) });
    expect(await udpDnsChecker.probe(target(server.port, { dns_query: "UP.lbctl.test." }), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
  });

  test("NXDOMAIN is unhealthy by default, healthy when expect_rcode lists it", async () => {
    const server = await dnsmasq();
    expect(await udpDnsChecker.probe(target(server.port, { dns_query: "other.lbctl.test" }), AbortSignal.timeout(2000))).toMatchObject({
      ok: false,
      reason: "NXDOMAIN, expected NOERROR",
    });
    const lenient = target(server.port, { dns_query: "other.lbctl.test", expect_rcode: ["NOERROR", "NXDOMAIN"] });
    expect(await udpDnsChecker.probe(lenient, AbortSignal.timeout(2000))).toMatchObject({ ok: true, reason: expect.stringContaining("NXDOMAIN, 0 answers") });
  });

  test("a name outside its domain is REFUSED (no upstream): unhealthy", async () => {
    const server = await dnsmasq();
    expect(await udpDnsChecker.probe(target(server.port, { dns_query: "example.com" }), AbortSignal.timeout(2000))).toMatchObject({ ok: false, reason: "REFUSED, expected NOERROR" });
  });

  testDownAfterStop(scope, {
    peerName: "dnsmasq",
    protocol: "udp",
    health: { type: "udp_dns", dns_query: "up.lbctl.test" },
    start: () => dnsmasq(),
    reason: "ICMP port unreachable",
  });
});

test("a reply with another ID is unhealthy", async () => {
  const port = await responder((query) => replyTo(query, (reply) => (reply[1] = (reply[1]! + 1) & 0xff)));
  const result = await udpDnsChecker.probe(target(port), AbortSignal.timeout(2000));
  expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/^reply ID 0x[0-9a-f]{4} does not match the query ID 0x[0-9a-f]{4}$/) });
});

test("the query has a random ID; the same ID and question are healthy", async () => {
  const ids = new Set<number>();
  const port = await responder((query) => {
    ids.add((query[0]! << 8) | query[1]!);
    return replyTo(query);
  });
  for (let i = 0; i < 20; i++) expect(await udpDnsChecker.probe(target(port), AbortSignal.timeout(2000))).toMatchObject({ ok: true, reason: expect.stringContaining("NOERROR, 0 answers") });
  expect(ids.size).toBeGreaterThan(15);
});

test("a truncated reply (TC) and garbage are unhealthy with a reason", async () => {
  const tc = await responder((query) => replyTo(query, (reply) => (reply[2] = reply[2]! | 0x02)));
  expect(await udpDnsChecker.probe(target(tc), AbortSignal.timeout(2000))).toMatchObject({ ok: false, reason: expect.stringContaining("truncated reply (TC bit set)") });
  const garbage = await responder((query) => query.subarray(0, 5));
  expect(await udpDnsChecker.probe(target(garbage), AbortSignal.timeout(2000))).toMatchObject({ ok: false, reason: "malformed DNS reply: 5 bytes, shorter than the 12-byte header" });
});
