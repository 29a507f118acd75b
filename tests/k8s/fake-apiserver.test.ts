/**
 * The fake API server is only as good as its fidelity: the real kubectl (1.32) creates, gets, watches and patches
 * through it, and lbctl's own client lists, pages, watches (410 included) and meets 409s on stale writes.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeClient } from "../../src/k8s/client.ts";
import { K8sError } from "../../src/k8s/errors.ts";
import type { Service, WatchEvent } from "../../src/k8s/types.ts";
import { FakeApiServer } from "./support/fake-apiserver.ts";

const KUBECTL = "/usr/bin/kubectl";
let server: FakeApiServer;
let dir: string;
let client: KubeClient;

beforeAll(() => {
  server = new FakeApiServer({ bookmarkMs: 200 }).start();
  dir = mkdtempSync(join(tmpdir(), "lbctl-kubectl-"));
  writeFileSync(join(dir, "kubeconfig"), server.kubeconfig());
  client = new KubeClient({ server: server.url, ca: server.pki.ca, token: server.token });
});
afterAll(() => {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function kubectl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const child = Bun.spawn([KUBECTL, "--kubeconfig", join(dir, "kubeconfig"), ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  return { code: await child.exited, out, err };
}

test("kubectl creates, gets, watches and patches through the fake", async () => {
  const manifest = join(dir, "svc.yaml");
  writeFileSync(manifest, "apiVersion: v1\nkind: Service\nmetadata: { name: web, namespace: default }\nspec:\n  type: LoadBalancer\n  loadBalancerClass: libraflux.io/lbctl\n  ports: [{ name: http, port: 80 }]\n");
  expect(await kubectl("create", "-f", manifest)).toMatchObject({ code: 0, out: "service/web created\n" });
  const created = JSON.parse((await kubectl("get", "svc", "web", "-o", "json")).out) as Service;
  expect(created.spec.ports?.[0]?.nodePort).toBeGreaterThanOrEqual(30000);
  expect(created.metadata.uid).toBeTruthy();

  const watch = Bun.spawn([KUBECTL, "--kubeconfig", join(dir, "kubeconfig"), "get", "svc", "web", "-w", "--output-watch-events", "-o", "jsonpath={.type} {.object.status.loadBalancer.ingress[0].ip}{\"\\n\"}"], { stdout: "pipe", stderr: "pipe" });
  // The watch has started once the server saw it.
  for (let i = 0; i < 100 && !server.requests.some((r) => r.path.includes("watch=true")); i++) await Bun.sleep(50);
  const patched = await kubectl("patch", "svc", "web", "--subresource=status", "--type=merge", "-p", '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.1","ipMode":"VIP"}]}}}');
  expect(patched.code).toBe(0);
  const reader = watch.stdout.getReader();
  let seen = "";
  while (!seen.includes("MODIFIED 192.0.2.1")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += new TextDecoder().decode(value);
  }
  watch.kill();
  expect(seen).toContain("ADDED");
  expect(seen).toContain("MODIFIED 192.0.2.1");
  expect((await kubectl("get", "svc", "web", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}")).out).toBe("192.0.2.1");
  // A status patch through the main resource does not change status, as on a real server.
  await kubectl("patch", "svc", "web", "--type=merge", "-p", '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.99"}]}}}');
  expect(server.object("services", "default", "web")?.status.loadBalancer.ingress[0].ip).toBe("192.0.2.1");
  expect(await kubectl("apply", "-f", manifest)).toMatchObject({ code: 0 });
  expect((await kubectl("annotate", "svc", "web", "team=edge")).code).toBe(0);
  expect(server.object("services", "default", "web")?.metadata.annotations.team).toBe("edge");
  expect((await kubectl("delete", "svc", "web")).code).toBe(0);
  expect((await kubectl("get", "svc", "web")).err).toContain('services "web" not found');
});

test("list pages with limit/continue at one resourceVersion; label selectors", async () => {
  for (let i = 0; i < 5; i++) server.put("nodes", { metadata: { name: `n${i}`, labels: i % 2 ? { odd: "yes" } : {} } });
  const page = await client.list("/api/v1/nodes", { limit: 2 });
  expect(page.items.length).toBe(2);
  expect(page.metadata.continue).toBeTruthy();
  const all = await client.listAll<{ metadata: { name: string } }>("/api/v1/nodes", { limit: 2 });
  expect(all.items.map((n) => n.metadata.name)).toEqual(["n0", "n1", "n2", "n3", "n4"]);
  const odd = await client.listAll<{ metadata: { name: string } }>("/api/v1/nodes", { labelSelector: "odd=yes" });
  expect(odd.items.map((n) => n.metadata.name)).toEqual(["n1", "n3"]);
});

test("watch from a resourceVersion: changes after it, bookmarks, and ERROR 410 once compacted", async () => {
  const { resourceVersion } = await client.listAll("/api/v1/nodes");
  server.put("nodes", { metadata: { name: "late" } });
  const events: WatchEvent<unknown>[] = [];
  await client.watch("/api/v1/nodes", { resourceVersion, timeoutSeconds: 1 }, (e) => events.push(e));
  expect(events[0]).toMatchObject({ type: "ADDED", object: { metadata: { name: "late" } } });
  expect(events.some((e) => e.type === "BOOKMARK")).toBe(true);
  server.compact();
  const stale: WatchEvent<unknown>[] = [];
  await client.watch("/api/v1/nodes", { resourceVersion, timeoutSeconds: 1 }, (e) => stale.push(e));
  expect(stale).toMatchObject([{ type: "ERROR", object: { code: 410, reason: "Expired" } }]);
});

test("409 on a stale write; merge and JSON patch on /status", async () => {
  const svc = await client.create<Service>("/api/v1/namespaces/default/services", { metadata: { name: "c" }, spec: { type: "LoadBalancer", ports: [{ port: 53, protocol: "UDP" }] } });
  await client.patch("/api/v1/namespaces/default/services/c", { metadata: { annotations: { a: "1" } } });
  const stale = client.patch("/api/v1/namespaces/default/services/c", { metadata: { resourceVersion: svc.metadata.resourceVersion, finalizers: ["x/y"] } });
  await expect(stale).rejects.toBeInstanceOf(K8sError);
  await expect(stale).rejects.toMatchObject({ code: "api-conflict", status: 409 });
  await client.patch("/api/v1/namespaces/default/services/c/status", [{ op: "add", path: "/status/loadBalancer/ingress", value: [{ ip: "192.0.2.7" }] }], "json");
  expect(server.object("services", "default", "c")?.status.loadBalancer.ingress).toEqual([{ ip: "192.0.2.7" }]);
  await client.patch("/api/v1/namespaces/default/services/c/status", { status: { loadBalancer: { ingress: null } } });
  expect(server.object("services", "default", "c")?.status.loadBalancer).toEqual({});
});

test("finalizers hold a deletion until they are removed", async () => {
  await client.create("/api/v1/namespaces/default/services", { metadata: { name: "f", finalizers: ["libraflux.io/lb-cleanup"] }, spec: { type: "LoadBalancer", ports: [{ port: 80 }] } });
  server.remove("services", "default", "f");
  const held = server.object("services", "default", "f");
  expect(held?.metadata.deletionTimestamp).toBeTruthy();
  await client.patch("/api/v1/namespaces/default/services/f", { metadata: { finalizers: null } });
  expect(server.object("services", "default", "f")).toBeUndefined();
});

test("a wrong token is refused with 401", async () => {
  const wrong = new KubeClient({ server: server.url, ca: server.pki.ca, token: "nope" });
  await expect(wrong.list("/api/v1/nodes")).rejects.toMatchObject({ status: 401 });
});
