/** Users bring their own CA: daemons replicate with a PKI made by plain `openssl` commands (no lbctl setup certs). */

import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, freePort, Node, service } from "./support/pair.ts";

const dir = mkdtempSync(join(tmpdir(), "lbctl-openssl-pki-"));
const nodes: Node[] = [];
afterAll(async () => {
  for (const node of nodes) await node.stop();
  for (const node of nodes) node.remove();
  rmSync(dir, { recursive: true, force: true });
});

function openssl(...args: string[]): void {
  const run = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${run.stderr.toString()}`);
}

function leaf(name: string, extensions: string): void {
  openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`);
  openssl("req", "-new", "-key", `${name}.key`, "-subj", `/CN=${name}`, "-out", `${name}.csr`);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30", "-extfile", `${name}.ext`, "-out", `${name}.crt`);
  chmodSync(join(dir, `${name}.key`), 0o600);
}

test("a primary and a secondary on certificates made with openssl replicate", async () => {
  openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"); // SEC1 "EC PRIVATE KEY" form
  openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=Own CA", "-days", "30", "-out", "ca.crt");
  leaf("lb-a", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  leaf("lb-b", "extendedKeyUsage=clientAuth\n");
  const port = await freePort();
  const primary = new Node({ name: "lb-a", role: "primary", port, certs: dir, cert: "lb-a.crt", key: "lb-a.key" });
  const secondary = new Node({ name: "lb-b", role: "secondary", port, certs: dir, cert: "lb-b.crt", key: "lb-b.key", extra: "  \n" });
  nodes.push(primary, secondary);
  primary.write("web.yaml", service("web", 80));
  primary.start();
  await eventually("the primary started", () => primary.output.includes("Control plane listening"));
  secondary.start();
  await eventually("the service file on the secondary", () => secondary.files()["web.yaml"] === service("web", 80));
  expect(primary.output).toContain("peer_cn=lb-b");
  expect(secondary.output).toContain("peer_cn=lb-a");
}, 60_000);
