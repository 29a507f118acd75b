/**
 * Config replication against real kernels: two director namespaces joined by a veth pair, each with its own IPVS
 * table and its own lbctl daemon (the real binary), the primary's listener and the secondary's client on
 * certificates from `lbctl setup certs` (support/controlplane-pair.ts). A service file added on the primary
 * appears in the secondary's IPVS table (`ipvsadm -Sn` inside its namespace is the oracle), an edit changes it,
 * and an invalid edit changes nothing there.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { PAIR_VIP as VIP, ReplicatedPair } from "./support/controlplane-pair.ts";
import { waitFor } from "./support/lbctl-daemon.ts";
import { requireLab } from "./support/index.ts";

let pair: ReplicatedPair;

/** The secondary's table, one sorted rule per line: the oracle. */
const secondaryTable = () => pair.director(2).ipvsadmSave();
const web = (port: number, scheduler = "rr") => stringify({ services: [{ name: "web", ports: [port], scheduler, backends: [{ address: "10.212.0.50" }] }] });
const serviceFile = (n: 1 | 2, name: string) => readFileSync(join(pair.folder(n), "config.d", name), "utf8");

/** waitFor, with both daemons' output in the error, so a timeout explains itself. */
async function waitForOrShow(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  try {
    await waitFor(condition, timeoutMs, what);
  } catch (error) {
    const logs = ([1, 2] as const).map((n) => `--- lbctl daemon of director ${n}:\n${(pair.daemons.get(n)?.log() ?? "").slice(-3000)}`).join("\n");
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
}

async function secondaryPeer(): Promise<{ peer: string; connected: boolean; last_sync: string | null }> {
  const status = await pair.director(2).lbctl(["status", "--json", "--config", pair.main(2)]);
  if (status.exitCode !== 0) throw new Error(`lbctl status: ${status.stderr}`);
  return JSON.parse(status.stdout).control_plane.peers[0];
}

beforeAll(async () => {
  requireLab();
  pair = await ReplicatedPair.start({ "web.yaml": web(80) });
  await waitForOrShow(() => secondaryTable().includes(`-A -t ${VIP}:80 -s rr`), 30_000, "the primary's first set in the secondary's kernel");
}, 120_000);

afterAll(async () => {
  await pair?.destroy();
});

test("a service file added on the primary appears in the secondary's IPVS table", async () => {
  pair.writeService(1, "dns.yaml", stringify({ services: [{ name: "dns", protocol: "udp", ports: [53], scheduler: "wrr", backends: [{ address: "10.212.0.53", weight: 3 }] }] }));
  await waitForOrShow(() => secondaryTable().includes(`-A -u ${VIP}:53 -s wrr`), 15_000, "dns in the secondary's kernel");
  expect(secondaryTable()).toContain(`-a -u ${VIP}:53 -r 10.212.0.53:53 -m -w 3`);
  // The primary's own daemon runs its edits when reloaded, as without replication: then both kernels agree.
  const reload = await pair.director(1).lbctl(["reload", "--config", pair.main(1)]);
  expect(reload.exitCode).toBe(0);
  await waitForOrShow(() => pair.director(1).ipvsadmSave().includes(`-A -u ${VIP}:53 -s wrr`), 15_000, "dns in the primary's kernel after its reload");
  expect(pair.director(1).ipvsadmSave()).toEqual(secondaryTable());
  expect(serviceFile(2, "dns.yaml")).toBe(serviceFile(1, "dns.yaml"));
}, 30_000);

test("an edit on the primary changes the secondary's table", async () => {
  pair.writeService(1, "web.yaml", web(8080, "wlc"));
  await waitForOrShow(() => secondaryTable().includes(`-A -t ${VIP}:8080 -s wlc`), 15_000, "the edit in the secondary's kernel");
  expect(secondaryTable().some((line) => line.includes(`${VIP}:80 `))).toBe(false);
  expect(secondaryTable()).toContain(`-a -t ${VIP}:8080 -r 10.212.0.50:8080 -m -w 1`);
}, 30_000);

test("an invalid edit on the primary changes nothing in the secondary's table", async () => {
  const before = secondaryTable();
  pair.writeService(1, "web.yaml", "services:\n  - name: web\n    ports: [99999]\n");
  await waitForOrShow(() => pair.daemon(1).log().includes("audit=controlplane_update_held"), 15_000, "the primary holding the edit");
  const heldAt = Date.now();
  // The positive sign that the secondary checked in after the invalid edit: a digest check answered "same".
  await waitForOrShow(async () => {
    const peer = await secondaryPeer();
    return peer.connected && peer.last_sync !== null && Date.parse(peer.last_sync) > heldAt;
  }, 15_000, "a sync of the secondary after the held edit");
  expect(secondaryTable()).toEqual(before);
  expect(serviceFile(2, "web.yaml")).toBe(web(8080, "wlc"));
  expect(pair.daemon(2).log()).not.toContain("controlplane_update_refused");
}, 30_000);
