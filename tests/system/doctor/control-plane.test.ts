/** doctor's control-plane checks on real certificate files and a real listener. */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../../src/config/load.ts";
import { checkControlPlane } from "../../../src/system/doctor/control-plane.ts";
import type { DoctorContext } from "../../../src/system/doctor/types.ts";
import { freePort, makePki } from "../../controlplane/support/pair.ts";

const dir = mkdtempSync(join(tmpdir(), "lbctl-cp-doctor-"));
const certs = join(dir, "certs");
const other = join(dir, "other");
let listener: Server;
let port = 0;

beforeAll(async () => {
  await makePki(certs, ["lb-b"]);
  await makePki(other, ["lb-b"]);
  port = await freePort();
  listener = createServer(() => {}).listen(port, "127.0.0.1");
}, 30_000);
afterAll(() => {
  listener.close();
  rmSync(dir, { recursive: true, force: true });
});

function context(cert: string, ca: string, address: string): DoctorContext {
  const main = join(dir, "config.yaml");
  writeFileSync(main, `node: { name: lb-b, role: secondary }\nnetwork: { frontend: { vip: 192.0.2.10 } }\ncontrol_plane: { enabled: true, mode: secondary, primary_address: "${address}", tls: { cert: ${cert}.crt, key: ${cert}.key, ca: ${ca} } }\n`);
  const loaded = loadConfig(main);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  return { probe: undefined as never, configPath: main, config: loaded.config };
}
const summary = (results: { status: string; message: string }[]) => results.map((r) => `${r.status} ${r.message}`).join("\n");

test("a good secondary: chain, key, expiry and the primary reachable all pass", async () => {
  const results = await checkControlPlane(context("certs/client-lb-b", "certs/ca.crt", `127.0.0.1:${port}`));
  expect(results.every((r) => r.status === "pass")).toBe(true);
  expect(summary(results)).toContain("chains to");
  expect(summary(results)).toContain("accepts connections");
});

test("wrong CA fails, expiry within 30 days warns, an unreachable primary warns, a loose key fails", async () => {
  const wrongCa = await checkControlPlane(context("certs/client-lb-b", "other/ca.crt", `127.0.0.1:${port}`));
  expect(summary(wrongCa)).toContain("fail");
  expect(summary(wrongCa)).toContain("was not issued by");
  const soon = await checkControlPlane(context("certs/client-lb-b", "certs/ca.crt", `127.0.0.1:${port}`), new Date(Date.now() + 800 * 86_400_000));
  expect(soon.find((r) => r.message.includes("client-lb-b.crt expires"))?.status).toBe("warn");
  const closed = await freePort();
  const away = await checkControlPlane(context("certs/client-lb-b", "certs/ca.crt", `127.0.0.1:${closed}`));
  expect(away.find((r) => r.message.includes("cannot be reached"))?.status).toBe("warn");
  const ctx = context("certs/client-lb-b", "certs/ca.crt", `127.0.0.1:${port}`); // loaded while the key is 0600
  chmodSync(join(certs, "client-lb-b.key"), 0o644);
  const loose = await checkControlPlane(ctx);
  expect(loose.find((r) => r.message.includes("tls.key"))?.status).toBe("fail");
  chmodSync(join(certs, "client-lb-b.key"), 0o600);
});
