/** `lbctl setup certs` through the CLI, with openssl as the independent judge of what it writes. */

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLbctl } from "../support/run-lbctl.ts";

const dir = mkdtempSync(join(tmpdir(), "lbctl-certs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openssl(...args: string[]): { code: number; out: string } {
  const run = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  return { code: run.exitCode, out: run.stdout.toString() + run.stderr.toString() };
}

test("a CA, a server certificate and client certificates that openssl verifies, with the right EKUs and SANs", async () => {
  const run = await runLbctl(["setup", "certs", "--output-dir", dir, "--primary", "lb-a", "--primary-address", "192.0.2.11", "--primary-address", "lb-a.example", "--secondary", "lb-b", "--secondary", "lb-c", "--days", "30"]);
  expect(run.stderr).toBe("");
  expect(run.exitCode).toBe(0);
  for (const file of ["ca.key", "server.key", "client-lb-b.key", "client-lb-c.key"]) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
  for (const file of ["ca.crt", "server.crt", "client-lb-b.crt"]) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o644);

  const verify = openssl("verify", "-CAfile", "ca.crt", "server.crt", "client-lb-b.crt", "client-lb-c.crt");
  expect(verify.out).toBe("server.crt: OK\nclient-lb-b.crt: OK\nclient-lb-c.crt: OK\n");
  expect(openssl("verify", "-CAfile", "ca.crt", "-purpose", "sslserver", "server.crt").code).toBe(0);
  expect(openssl("verify", "-CAfile", "ca.crt", "-purpose", "sslclient", "client-lb-b.crt").code).toBe(0);
  expect(openssl("verify", "-CAfile", "ca.crt", "-purpose", "sslserver", "client-lb-b.crt").code).not.toBe(0);

  const server = openssl("x509", "-in", "server.crt", "-noout", "-text").out;
  expect(server).toContain("Subject: CN = lb-a");
  expect(server).toContain("TLS Web Server Authentication");
  expect(server).toContain("IP Address:192.0.2.11, DNS:lb-a.example");
  expect(server).toContain("NIST CURVE: P-256");
  expect(server).toContain("ecdsa-with-SHA256");
  const client = openssl("x509", "-in", "client-lb-c.crt", "-noout", "-text").out;
  expect(client).toContain("Subject: CN = lb-c");
  expect(client).toContain("TLS Web Client Authentication");
  expect(client).not.toContain("TLS Web Server Authentication");
  const ca = openssl("x509", "-in", "ca.crt", "-noout", "-text").out;
  expect(ca).toContain("CA:TRUE");
  // --days 30 for the leaves: expiry within 31 days, not within 29.
  expect(openssl("x509", "-in", "server.crt", "-noout", "-checkend", String(31 * 86400)).code).not.toBe(0);
  expect(openssl("x509", "-in", "server.crt", "-noout", "-checkend", String(29 * 86400)).code).toBe(0);
});

test("an existing key is not overwritten without --force, and nothing is written then", async () => {
  const before = readFileSync(join(dir, "server.key"), "utf8");
  const refused = await runLbctl(["setup", "certs", "--output-dir", dir, "--primary-address", "192.0.2.11", "--secondary", "lb-z"]);
  expect(refused.exitCode).toBe(1);
  expect(refused.stderr).toContain("would overwrite");
  expect(refused.stderr).toContain("--force");
  expect(readFileSync(join(dir, "server.key"), "utf8")).toBe(before);
  expect(openssl("x509", "-in", "client-lb-z.crt", "-noout").code).not.toBe(0); // not written
  const forced = await runLbctl(["setup", "certs", "--output-dir", dir, "--primary-address", "192.0.2.11", "--secondary", "lb-b", "--secondary", "lb-c", "--force"]);
  expect(forced.exitCode).toBe(0);
  expect(readFileSync(join(dir, "server.key"), "utf8")).not.toBe(before);
});

test("--add-secondary issues from the existing CA, which openssl accepts", async () => {
  const caBefore = readFileSync(join(dir, "ca.crt"), "utf8");
  const run = await runLbctl(["setup", "certs", "--output-dir", dir, "--add-secondary", "lb-d"]);
  expect(run.stderr).toBe("");
  expect(run.exitCode).toBe(0);
  expect(readFileSync(join(dir, "ca.crt"), "utf8")).toBe(caBefore);
  expect(openssl("verify", "-CAfile", "ca.crt", "client-lb-d.crt").out).toBe("client-lb-d.crt: OK\n");
});

test("usage errors: no address, a bad address, a bad name", async () => {
  const other = join(dir, "other");
  for (const args of [[], ["--primary-address", "not an address!"], ["--primary-address", "192.0.2.1", "--secondary", "a/b"], ["--primary-address", "192.0.2.1", "--days", "0"]]) {
    const run = await runLbctl(["setup", "certs", "--output-dir", other, ...args]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.length).toBeGreaterThan(0);
  }
});
