/**
 * What an operator sees of replication, from two real lbctl daemons (memory kernel) over real TLS: the
 * lbctl_controlplane_* series of spec/controlplane.md on both metrics listeners, and the controlplane_* audit
 * records (JSON console) naming the peer by CN, SANs, SPKI fingerprint and address, with digests and files.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, freePort, makePki, Node, service } from "./support/pair.ts";

const certs = mkdtempSync(join(tmpdir(), "lbctl-cp-obs-"));
let primary: Node;
let secondary: Node;

/** The value of one series, or undefined when the exposition does not have it. */
function series(text: string, name: string, labels: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

const notAfter = (file: string) => Math.floor(new X509Certificate(readFileSync(join(certs, file))).validToDate.getTime() / 1000);
const spki = (file: string) => createHash("sha256").update(new X509Certificate(readFileSync(join(certs, file))).publicKey.export({ type: "spki", format: "der" })).digest("base64");

beforeAll(async () => {
  await makePki(certs, ["lb-b"]);
  const port = await freePort();
  primary = new Node({ name: "lb-a", role: "primary", port, certs, cert: "server.crt", key: "server.key", metricsPort: await freePort(), jsonLog: true });
  secondary = new Node({ name: "lb-b", role: "secondary", port, certs, cert: "client-lb-b.crt", key: "client-lb-b.key", metricsPort: await freePort(), jsonLog: true });
  primary.write("web.yaml", service("web", 80));
  primary.start();
  await eventually("the primary listening", () => primary.output.includes("Control plane listening"));
  secondary.start();
  await eventually("the secondary's first update", () => secondary.audits("controlplane_update_applied").length === 1);
}, 60_000);

afterAll(async () => {
  for (const node of [primary, secondary]) await node?.stop();
  for (const node of [primary, secondary]) node?.remove();
  rmSync(certs, { recursive: true, force: true });
});

test("the daemons say in their log that IPVS is simulated (tests only)", () => {
  for (const node of [primary, secondary]) expect(node.output).toContain("LBCTL_TEST_MEMORY_KERNEL=1: TESTS ONLY");
});

test("metrics of a synced pair: connected by CN, updates by result, last sync, certificate expiry", async () => {
  const startedAt = Date.now() / 1000;
  // The primary's sync time is set when the secondary acknowledges the push.
  await eventually("the primary's last sync", async () => series(await primary.metrics(), "lbctl_controlplane_last_sync_timestamp_seconds", 'node="lb-a"') !== undefined);
  const a = await primary.metrics();
  const b = await secondary.metrics();
  expect(series(a, "lbctl_controlplane_connected", 'node="lb-a",peer="lb-b"')).toBe(1);
  expect(series(b, "lbctl_controlplane_connected", 'node="lb-b",peer="lb-a"')).toBe(1);
  // The placeholder of a secondary before its first handshake is gone once the primary's CN is known.
  expect(b).not.toContain('peer="primary"');
  expect(series(b, "lbctl_controlplane_updates_total", 'node="lb-b",result="applied"')).toBe(1);
  expect(series(b, "lbctl_controlplane_updates_total", 'node="lb-b",result="refused"')).toBe(0);
  expect(series(a, "lbctl_controlplane_updates_total", 'node="lb-a",result="held"')).toBe(0);
  for (const [text, node] of [[a, "lb-a"], [b, "lb-b"]] as const) {
    const synced = series(text, "lbctl_controlplane_last_sync_timestamp_seconds", `node="${node}"`)!;
    expect(synced).toBeGreaterThan(startedAt - 120);
    expect(synced).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(series(text, "lbctl_controlplane_certificate_expiry_timestamp_seconds", `node="${node}",certificate="ca"`)).toBe(notAfter("ca.crt"));
  }
  expect(series(a, "lbctl_controlplane_certificate_expiry_timestamp_seconds", 'node="lb-a",certificate="local"')).toBe(notAfter("server.crt"));
  expect(series(b, "lbctl_controlplane_certificate_expiry_timestamp_seconds", 'node="lb-b",certificate="local"')).toBe(notAfter("client-lb-b.crt"));
});

test("audit records of a connection and an update name the peer, the digest and the files", async () => {
  const digest = (await primary.status())?.control_plane?.digest;
  expect(digest).toMatch(/^[0-9a-f]{64}$/);
  const connected = primary.audits("controlplane_connected")[0];
  expect(connected).toMatchObject({ peer_cn: "lb-b", peer_node: "lb-b", peer_spki_sha256: spki("client-lb-b.crt"), level: "info" });
  expect(String(connected?.peer_sans)).toContain("DNS:lb-b");
  expect(String(connected?.remote_address)).toMatch(/^127\.0\.0\.1:\d+$/);
  expect(secondary.audits("controlplane_connected")[0]).toMatchObject({ peer_cn: "lb-a", peer_sans: "IP:127.0.0.1", peer_spki_sha256: spki("server.crt"), remote_address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
  expect(primary.audits("controlplane_update_pushed")[0]).toMatchObject({ peer_cn: "lb-b", digest, files: "config.d/web.yaml", force: false });
  expect(secondary.audits("controlplane_update_applied")[0]).toMatchObject({ peer_cn: "lb-a", digest, files_written: "config.d/web.yaml", files_removed: "" });
});

test("an invalid edit counts held on the primary and is audited; the secondary's counters do not move", async () => {
  primary.write("bad.yaml", "services:\n  - name: bad\n    ports: [99999]\n");
  await eventually("held", async () => series(await primary.metrics(), "lbctl_controlplane_updates_total", 'node="lb-a",result="held"') === 1);
  const held = primary.audits("controlplane_update_held");
  expect(held).toHaveLength(1);
  expect(String(held[0]!.errors)).toContain("bad.yaml");
  unlinkSync(join(primary.dir, "config.d", "bad.yaml"));
  // A valid edit goes through: the positive sign that the secondary was listening all along.
  primary.write("web.yaml", service("web", 8080));
  await eventually("the next edit applied", async () => series(await secondary.metrics(), "lbctl_controlplane_updates_total", 'node="lb-b",result="applied"') === 2);
  expect(secondary.files()["bad.yaml"]).toBeUndefined();
  expect(series(await secondary.metrics(), "lbctl_controlplane_updates_total", 'node="lb-b",result="refused"')).toBe(0);
}, 30_000);

test("a file changed behind the secondary's back is put back at its next digest check (the fallback for a lost push)", async () => {
  const applied = secondary.audits("controlplane_update_applied").length;
  writeFileSync(join(secondary.dir, "config.d", "web.yaml"), service("web", 9999));
  // sync_interval_seconds is 2: the secondary's config.sync carries the digest of what it has on disk.
  await eventually("the primary's set back on the secondary", () => secondary.files()["web.yaml"] === primary.files()["web.yaml"], 15_000);
  await eventually("its audit record", () => secondary.audits("controlplane_update_applied").length === applied + 1);
  expect(secondary.audits("controlplane_update_applied").at(-1)).toMatchObject({ files_written: "config.d/web.yaml" });
}, 30_000);

test("primary down: the secondary's gauge drops to 0 and the disconnection is audited", async () => {
  await primary.stop();
  await eventually("0 on the secondary", async () => series(await secondary.metrics(), "lbctl_controlplane_connected", 'node="lb-b",peer="lb-a"') === 0);
  expect(secondary.audits("controlplane_disconnected")[0]).toMatchObject({ level: "warn", peer_cn: "lb-a", peer_spki_sha256: spki("server.crt") });
}, 30_000);
