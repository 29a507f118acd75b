/**
 * x509 client-certificate authentication (kubeconfig client-certificate-data/client-key-data, or the file forms):
 * the fake API server asks for a client certificate in the TLS handshake and refuses one its CA did not sign. The
 * real kubectl proves the fake's side (create, watch, status patch); lbctl's kubeconfig loader and client use
 * the same kubeconfig, and a client without a certificate, or with another CA's, gets nowhere.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeClient } from "../../src/k8s/client.ts";
import { loadCredentials } from "../../src/k8s/connection.ts";
import type { Service } from "../../src/k8s/types.ts";
import { FakeApiServer } from "./support/fake-apiserver.ts";
import { makePki, type TestPki } from "./support/tls.ts";

const KUBECTL = "/usr/bin/kubectl";
let server: FakeApiServer;
let otherCa: TestPki;
let dir: string;
let inlineConfig: string;
let fileConfig: string;

beforeAll(() => {
  server = new FakeApiServer({ clientCertificates: true, bookmarkMs: 200 }).start();
  otherCa = makePki();
  dir = mkdtempSync(join(tmpdir(), "lbctl-client-cert-"));
  inlineConfig = join(dir, "inline.kubeconfig");
  fileConfig = join(dir, "files.kubeconfig");
  writeFileSync(inlineConfig, server.kubeconfig());
  writeFileSync(fileConfig, server.kubeconfig({ files: true }));
});
afterAll(() => {
  server.stop();
  otherCa.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function kubectl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const child = Bun.spawn([KUBECTL, "--kubeconfig", inlineConfig, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  return { code: await child.exited, out, err };
}

test("the kubeconfigs carry a client certificate and no token", () => {
  expect(inlineConfig).toBeTruthy();
  const inline = loadCredentials(inlineConfig, "");
  expect(inline.token).toBeUndefined();
  expect(inline.cert).toContain("BEGIN CERTIFICATE");
  expect(inline.key).toContain("PRIVATE KEY");
  const files = loadCredentials(fileConfig, "");
  expect(files.token).toBeUndefined();
  expect(files.cert).toContain("BEGIN CERTIFICATE");
});

test("kubectl with a client certificate creates, watches and patches status through the fake", async () => {
  const manifest = join(dir, "svc.yaml");
  writeFileSync(manifest, "apiVersion: v1\nkind: Service\nmetadata: { name: dns, namespace: default }\nspec:\n  type: LoadBalancer\n  loadBalancerClass: libraflux.io/lbctl\n  ports: [{ name: dns, port: 53, protocol: UDP }]\n");
  expect(await kubectl("create", "-f", manifest)).toMatchObject({ code: 0, out: "service/dns created\n" });
  const watch = Bun.spawn([KUBECTL, "--kubeconfig", inlineConfig, "get", "svc", "dns", "-w", "--output-watch-events", "-o", "jsonpath={.type} {.object.status.loadBalancer.ingress[0].ip}{\"\\n\"}"], { stdout: "pipe", stderr: "pipe" });
  try {
    for (let i = 0; i < 200 && !server.requests.some((r) => r.path.includes("watch=true")); i++) await Bun.sleep(50);
    expect(server.requests.some((r) => r.path.includes("watch=true"))).toBe(true);
    const patched = await kubectl("patch", "svc", "dns", "--subresource=status", "--type=merge", "-p", '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.53","ipMode":"VIP"}]}}}');
    expect(patched).toMatchObject({ code: 0 });
    const reader = watch.stdout.getReader();
    let seen = "";
    while (!seen.includes("MODIFIED 192.0.2.53")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    expect(seen).toContain("ADDED");
    expect(seen).toContain("MODIFIED 192.0.2.53");
  } finally {
    watch.kill();
  }
  expect(server.object("services", "default", "dns")?.status.loadBalancer.ingress).toEqual([{ ip: "192.0.2.53", ipMode: "VIP" }]);
});

test("lbctl's client with the kubeconfig's certificate (inline or files) lists and patches status", async () => {
  for (const [file, ip] of [[inlineConfig, "192.0.2.54"], [fileConfig, "192.0.2.55"]] as const) {
    const client = new KubeClient(loadCredentials(file, ""));
    const services = await client.listAll<Service>("/api/v1/services");
    expect(services.items.map((s) => s.metadata.name)).toContain("dns");
    await client.patch("/api/v1/namespaces/default/services/dns/status", { status: { loadBalancer: { ingress: [{ ip, ipMode: "VIP" }] } } });
    expect(server.object("services", "default", "dns")?.status.loadBalancer.ingress).toEqual([{ ip, ipMode: "VIP" }]);
  }
});

test("no client certificate, or one from another CA, is refused in the handshake", async () => {
  const none = new KubeClient({ server: server.url, ca: server.pki.ca });
  await expect(none.list("/api/v1/services")).rejects.toMatchObject({ code: "api-unreachable" });
  const stranger = otherCa.clientCert("mallory");
  const foreign = new KubeClient({ server: server.url, ca: server.pki.ca, cert: stranger.cert, key: stranger.key });
  await expect(foreign.list("/api/v1/services")).rejects.toMatchObject({ code: "api-unreachable" });
  // The refusals are handshake failures: no request reached the API handlers.
  const before = server.requests.length;
  await expect(foreign.get("/api/v1/namespaces/default/services/dns")).rejects.toMatchObject({ code: "api-unreachable" });
  expect(server.requests.length).toBe(before);
  const tokenOnly = join(dir, "token.kubeconfig");
  writeFileSync(tokenOnly, server.kubeconfig().replace(/    client-certificate-data: .*\n    client-key-data: .*\n/, "    token: test-token\n"));
  const child = Bun.spawn([KUBECTL, "--kubeconfig", tokenOnly, "--request-timeout=5s", "get", "svc"], { stdout: "pipe", stderr: "pipe" });
  const err = await new Response(child.stderr).text();
  expect(await child.exited).not.toBe(0);
  expect(err).toMatch(/certificate|tls|handshake|EOF|connection reset/i);
});
