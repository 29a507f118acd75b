/**
 * Host tests: real lbctl daemons (memory kernel, LBCTL_TEST_MEMORY_KERNEL=1) replicating over real TLS on
 * 127.0.0.1 with certificates from `lbctl setup certs`. The secondary's files on disk and its daemon's
 * `lbctl status --json` (what it reloaded) are the signals.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLbctl } from "../support/run-lbctl.ts";
import { eventually, freePort, makePki, Node, service } from "./support/pair.ts";

const certs = mkdtempSync(join(tmpdir(), "lbctl-cp-certs-"));
let port = 0;
let primary: Node;
let secondary: Node;
const nodes: Node[] = [];

const servicesOf = async (node: Node) => ((await node.status())?.services ?? []).map((s) => s.name).sort();
const sameFiles = (a: Node, b: Node) => JSON.stringify(a.files()) === JSON.stringify(b.files());

beforeAll(async () => {
  await makePki(certs, ["lb-b", "lb-c", "lb-d"]);
  port = await freePort();
  primary = new Node({ name: "lb-a", role: "primary", port, certs, cert: "server.crt", key: "server.key" });
  secondary = new Node({ name: "lb-b", role: "secondary", port, certs, cert: "client-lb-b.crt", key: "client-lb-b.key" });
  nodes.push(primary, secondary);
  primary.write("web.yaml", service("web", 80));
  primary.start();
  await eventually("the primary listening", () => primary.output.includes("Control plane listening"));
  secondary.start();
  await eventually("web on the secondary", async () => (await servicesOf(secondary)).includes("web"));
}, 60_000);

afterAll(async () => {
  for (const node of nodes) await node.stop();
  for (const node of nodes) node.remove();
  rmSync(certs, { recursive: true, force: true });
});

test("an edit, a new file, a deletion and a rename on the primary each appear on the secondary, reloaded", async () => {
  primary.write("web.yaml", service("web", 8080));
  await eventually("the edit", () => secondary.files()["web.yaml"]?.includes("8080") === true);
  primary.write("api.yaml", service("api", 81));
  await eventually("the new file reloaded", async () => (await servicesOf(secondary)).join() === "api,web");
  unlinkSync(join(primary.dir, "config.d", "api.yaml"));
  await eventually("the deletion reloaded", async () => (await servicesOf(secondary)).join() === "web");
  expect(secondary.files()["api.yaml"]).toBeUndefined();
  renameSync(join(primary.dir, "config.d", "web.yaml"), join(primary.dir, "config.d", "www.yaml"));
  await eventually("the rename", () => sameFiles(primary, secondary));
  expect(Object.keys(secondary.files())).toEqual(["www.yaml"]);
  expect(secondary.output).toContain("audit=controlplane_update_applied");
  // status --json: both sides name the other, connected, with the same digest.
  const [mine, theirs] = [(await secondary.status())?.control_plane, (await primary.status())?.control_plane];
  expect(mine?.mode).toBe("secondary");
  expect(mine?.peers[0]).toMatchObject({ peer: "lb-a", connected: true });
  expect(theirs?.mode).toBe("primary");
  expect(theirs?.peers.find((p) => p.peer === "lb-b")?.connected).toBe(true);
  expect(mine?.digest).toBe(theirs!.digest);
}, 60_000);

test("an invalid edit is held on the primary and never reaches the secondary", async () => {
  const before = secondary.files();
  primary.write("bad.yaml", "services:\n  - name: bad\n    ports: [99999]\n");
  await eventually("the primary holding it", () => primary.output.includes("audit=controlplane_update_held"));
  // A valid edit after it is pushed (positive sign the channel works) only once the bad file is gone.
  unlinkSync(join(primary.dir, "config.d", "bad.yaml"));
  primary.write("www.yaml", service("www", 8081));
  await eventually("the next valid edit", () => secondary.files()["www.yaml"]?.includes("8081") === true);
  expect(Object.keys(secondary.files())).toEqual(Object.keys(before));
  expect(secondary.files()["bad.yaml"]).toBeUndefined();
}, 60_000);

test("primary down: the secondary keeps its files and services; primary back: it resyncs", async () => {
  const kept = secondary.files();
  await primary.stop();
  await eventually("the secondary noticing", () => secondary.output.includes("serving the last known config"));
  expect(secondary.files()).toEqual(kept);
  expect(await servicesOf(secondary)).toEqual(["www"]);
  expect((await secondary.status())?.control_plane?.peers[0]?.connected).toBe(false);
  primary.write("www.yaml", service("www", 8082)); // edited while down
  primary.output = "";
  primary.start();
  await eventually("the resync after the primary's return", () => secondary.files()["www.yaml"]?.includes("8082") === true, 40_000);
}, 60_000);

test("secondary down during edits catches up on reconnect", async () => {
  await secondary.stop();
  primary.write("late.yaml", service("late", 90));
  primary.write("www.yaml", service("www", 8083));
  secondary.start();
  await eventually("catch-up", async () => (await servicesOf(secondary)).join() === "late,www", 30_000);
  expect(sameFiles(primary, secondary)).toBe(true);
}, 60_000);

test("three secondaries at once each get every change", async () => {
  const c = new Node({ name: "lb-c", role: "secondary", port, certs, cert: "client-lb-c.crt", key: "client-lb-c.key" });
  const d = new Node({ name: "lb-d", role: "secondary", port, certs, cert: "client-lb-d.crt", key: "client-lb-d.key" });
  nodes.push(c, d);
  c.start();
  d.start();
  await eventually("both new secondaries in sync", () => sameFiles(primary, c) && sameFiles(primary, d), 30_000);
  primary.write("three.yaml", service("three", 3000));
  for (const node of [secondary, c, d]) await eventually(`${node.options.name} reloaded`, async () => (await servicesOf(node)).includes("three"));
}, 90_000);

test("a deletion over the secondary's change limit is refused (files restored) until the primary's operator forces it", async () => {
  const port = await freePort();
  const a = new Node({ name: "lb-a", role: "primary", port, certs, cert: "server.crt", key: "server.key" });
  const b = new Node({ name: "lb-b", role: "secondary", port, certs, cert: "client-lb-b.crt", key: "client-lb-b.key" });
  nodes.push(a, b);
  // The secondary refuses any service deletion without force.
  writeFileSync(b.main, readFileSync(b.main, "utf8").replace("reconcile_interval_ms: 1000 }", "reconcile_interval_ms: 1000, change_limits: { max_services_deleted: 0 } }"));
  a.write("one.yaml", service("one", 1));
  a.write("two.yaml", service("two", 2));
  a.start();
  await eventually("the primary started", () => a.output.includes("Control plane listening"));
  b.start();
  await eventually("both services on the secondary", async () => (await servicesOf(b)).join() === "one,two");
  unlinkSync(join(a.dir, "config.d", "two.yaml"));
  await eventually("the secondary's refusal over its change limit", () => /controlplane_update_refused.*code=1007/.test(b.output));
  expect(Object.keys(b.files())).toEqual(["one.yaml", "two.yaml"]); // restored
  expect(await servicesOf(b)).toEqual(["one", "two"]);
  // The primary's operator forces (its own daemon had no limit to pass, but the force is what is replicated).
  const forced = await runLbctl(["apply", "--force", "--config", a.main]);
  expect(forced.exitCode).toBe(0);
  await eventually("the forced set applied on the secondary", async () => (await servicesOf(b)).join() === "one");
  expect(Object.keys(b.files())).toEqual(["one.yaml"]);
}, 90_000);
