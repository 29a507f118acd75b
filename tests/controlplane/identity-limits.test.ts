/**
 * Who may connect, and how fast, against real lbctl daemons (memory kernel) with real TLS peers: the primary's
 * `tls.allowed_clients` and `tls.pin_sha256`, the secondary's pin of the primary's key, the primary's
 * `max_connections_per_minute` per source address, and `handshake_timeout_ms` for a peer that never finishes its
 * handshake or never says `config.hello`. Every refusal is an audit record naming the reason.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, freePort, makePki, Node, service } from "./support/pair.ts";
import { connectAsSecondary, material } from "./support/rogue.ts";

const certs = mkdtempSync(join(tmpdir(), "lbctl-cp-identity-"));
const nodes: Node[] = [];
const spki = (file: string) => createHash("sha256").update(new X509Certificate(readFileSync(join(certs, file))).publicKey.export({ type: "spki", format: "der" })).digest("base64");

async function startPrimary(options: { extra?: string; tlsExtra?: string }): Promise<{ node: Node; port: number }> {
  const port = await freePort();
  const node = new Node({ name: "lb-a", role: "primary", port, certs, cert: "server.crt", key: "server.key", ...options });
  nodes.push(node);
  node.write("web.yaml", service("web", 80));
  node.start();
  await eventually("the primary listening", () => node.output.includes("Control plane listening"));
  return { node, port };
}

/** Connects as `name` and says hello: the primary's answer, or undefined when it closed the connection instead. */
async function hello(port: number, name: string): Promise<{ node?: string } | undefined> {
  const { wire } = await connectAsSecondary(port, material(certs, `client-${name}.crt`, `client-${name}.key`));
  if (!wire) return undefined;
  wire.send({ jsonrpc: "2.0", id: 1, method: "config.hello", params: { node: name, digest: null } });
  try {
    return (await wire.next(3000)).result;
  } catch {
    return undefined;
  } finally {
    wire.socket.destroy();
  }
}

beforeAll(async () => {
  await makePki(certs, ["lb-b", "lb-c", "lb-d"]);
}, 30_000);

afterAll(async () => {
  for (const node of nodes) await node.stop();
  for (const node of nodes) node.remove();
  rmSync(certs, { recursive: true, force: true });
});

describe("the primary's allowed_clients and pin_sha256", () => {
  let primary: Node;
  let port = 0;
  beforeAll(async () => {
    ({ node: primary, port } = await startPrimary({ tlsExtra: `allowed_clients: [lb-b, lb-c], pin_sha256: ["${spki("client-lb-b.crt")}"]` }));
  }, 30_000);

  test("a listed client whose key is pinned is answered (the positive control)", async () => {
    expect((await hello(port, "lb-b"))?.node).toBe("lb-a");
  });

  test("a client of the CA that allowed_clients does not list is refused and audited", async () => {
    expect(await hello(port, "lb-d")).toBeUndefined();
    await eventually("the refusal", () => /audit=controlplane_handshake_refused .*reason=not_allowed peer_cn=lb-d /.test(primary.output));
  }, 20_000);

  test("a listed client whose key matches no pin is refused and audited", async () => {
    expect(await hello(port, "lb-c")).toBeUndefined();
    await eventually("the refusal", () => new RegExp(`audit=controlplane_handshake_refused .*reason=pin_mismatch peer_cn=lb-c .*peer_spki_sha256="${spki("client-lb-c.crt").replace(/[+/]/g, "\\$&")}" `).test(primary.output));
  }, 20_000);
});

test("a secondary refuses a primary whose key matches none of its pins", async () => {
  const { node: primary, port } = await startPrimary({});
  const secondary = new Node({
    name: "lb-b",
    role: "secondary",
    port,
    certs,
    cert: "client-lb-b.crt",
    key: "client-lb-b.key",
    tlsExtra: `pin_sha256: ["${spki("client-lb-c.crt")}"]`,
  });
  nodes.push(secondary);
  secondary.start();
  await eventually("the secondary's refusal", () => /audit=controlplane_handshake_refused .*reason=pin_mismatch/.test(secondary.output));
  expect(secondary.files()).toEqual({});
  expect(primary.output).not.toContain("audit=controlplane_connected");
  await secondary.stop();
}, 30_000);

test("max_connections_per_minute per source, and handshake_timeout_ms for a silent peer", async () => {
  const { node: primary, port } = await startPrimary({ extra: "  limits: { max_connections_per_minute: 2, handshake_timeout_ms: 400 }\n" });
  // 1: TCP only, no TLS handshake: closed after the timeout.
  const started = performance.now();
  const closedAfter = await new Promise<number>((resolve) => {
    const socket = tcpConnect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.on("close", () => resolve(performance.now() - started));
  });
  expect(closedAfter).toBeGreaterThanOrEqual(350);
  expect(closedAfter).toBeLessThan(5000);
  // 2: a TLS handshake, then silence: no config.hello in time, closed.
  const { wire } = await connectAsSecondary(port, material(certs, "client-lb-b.crt", "client-lb-b.key"));
  await wire!.closed;
  // 3: over the limit from 127.0.0.1 this minute: dropped at once, audited.
  const third = await connectAsSecondary(port, material(certs, "client-lb-c.crt", "client-lb-c.key"));
  expect(third.wire).toBeUndefined();
  await eventually("the rate refusal", () => /audit=controlplane_handshake_refused .*reason=max_connections_per_minute remote_address=127\.0\.0\.1/.test(primary.output));
  expect(primary.output).not.toContain("audit=controlplane_connected");
}, 30_000);
