/**
 * The attack list of issue 13, each against a real lbctl daemon (memory kernel) with a real TLS peer acting as the
 * rogue side. Each: refused as spec/controlplane.md says, nothing written outside the include folder, the
 * secondary's files and services unchanged, the daemon alive.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { issueLeaf, loadAuthority } from "../../src/controlplane/certs/issue.ts";
import { bundleDigest, sha256Hex } from "../../src/controlplane/digest.ts";
import { eventually, freePort, makePki, Node, service } from "./support/pair.ts";
import { connectAsSecondary, material, roguePrimary, type Wire } from "./support/rogue.ts";

const certs = mkdtempSync(join(tmpdir(), "lbctl-cp-attack-"));
const otherCa = join(certs, "other");
const nodes: Node[] = [];
const DAY = 86_400_000;

async function issueExtra(name: string, usage: "server" | "client", altNames: string[], now: Date, days: number): Promise<void> {
  const authority = await loadAuthority(readFileSync(join(certs, "ca.crt"), "utf8"), readFileSync(join(certs, "ca.key"), "utf8"));
  const pair = await issueLeaf(authority, { name, usage, altNames, days }, now);
  writeFileSync(join(certs, `${name}.crt`), pair.certPem);
  writeFileSync(join(certs, `${name}.key`), pair.keyPem, { mode: 0o600 });
}

beforeAll(async () => {
  await makePki(certs, ["lb-b", "lb-c"]);
  await makePki(otherCa, ["lb-b"]);
  await issueExtra("expired", "client", ["expired"], new Date(Date.now() - 10 * DAY), 1);
  await issueExtra("future", "client", ["future"], new Date(Date.now() + 10 * DAY), 5);
  await issueExtra("wrong-san", "server", ["other.example"], new Date(), 5);
}, 60_000);

afterAll(async () => {
  for (const node of nodes) await node.stop();
  for (const node of nodes) node.remove();
  rmSync(certs, { recursive: true, force: true });
});

describe("rogue secondaries against a primary", () => {
  let primary: Node;
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
    primary = new Node({ name: "lb-a", role: "primary", port, certs, cert: "server.crt", key: "server.key", extra: "  limits: { max_connections_per_minute: 1000 }\n" });
    nodes.push(primary);
    primary.write("web.yaml", service("web", 80));
    primary.start();
    await eventually("the primary started", () => primary.output.includes("Control plane listening"));
  }, 30_000);

  /** The rogue gets no answer to config.hello, and the primary records the refusal. */
  async function refused(tls: Parameters<typeof connectAsSecondary>[1], reason: RegExp): Promise<void> {
    const before = primary.output.length;
    const { wire, error } = await connectAsSecondary(port, tls);
    if (wire) {
      wire.send({ jsonrpc: "2.0", id: 1, method: "config.hello", params: { node: "rogue", digest: null } });
      await expect(wire.next(3000)).rejects.toThrow();
    } else {
      expect(error).toBeDefined();
    }
    await eventually("the primary's audit of the refusal", () => reason.test(primary.output.slice(before))).catch((timeout: Error) => {
      throw new Error(`${timeout.message}; the primary printed meanwhile: ${JSON.stringify(primary.output.slice(before).slice(-1500))}; the rogue's connection: ${wire ? "handshake done" : `refused (${error})`}`);
    });
    expect(primary.output.slice(before)).toContain("audit=controlplane_handshake_refused");
  }

  test("a legitimate secondary is answered (the positive control)", async () => {
    const { wire } = await connectAsSecondary(port, material(certs, "client-lb-b.crt", "client-lb-b.key"));
    wire!.send({ jsonrpc: "2.0", id: 1, method: "config.hello", params: { node: "lb-b", digest: null } });
    const hello = await wire!.next();
    expect(hello.result.node).toBe("lb-a");
    const update = await wire!.next();
    expect(update.method).toBe("config.update");
    wire!.socket.destroy();
  });

  test("no client certificate", () => refused({ ca: material(certs, "server.crt", "server.key").ca }, /CERTIFICATE|certificate/));
  test("a client certificate from another CA", () => refused(material(otherCa, "client-lb-b.crt", "client-lb-b.key"), /certificate|CERT/));
  test("an expired client certificate", async () => {
    const before = primary.output.length;
    await refused(material(certs, "expired.crt", "expired.key"), /expired|EXPIRED/);
    // The record names the certificate that was presented.
    expect(primary.output.slice(before)).toMatch(/audit=controlplane_handshake_refused .*peer_cn=expired .*peer_spki_sha256=\S+ remote_address=127\.0\.0\.1:\d+/);
  });
  test("a not-yet-valid client certificate", () => refused(material(certs, "future.crt", "future.key"), /not yet valid|NOT_YET_VALID/));
  test("a server certificate presented as a client (wrong EKU)", () => refused(material(certs, "server.crt", "server.key"), /purpose|PURPOSE/));

  test("the primary is alive and still serves", async () => {
    const { wire } = await connectAsSecondary(port, material(certs, "client-lb-c.crt", "client-lb-c.key"));
    wire!.send({ jsonrpc: "2.0", id: 1, method: "config.hello", params: { node: "lb-c", digest: null } });
    expect((await wire!.next()).result.node).toBe("lb-a");
    wire!.socket.destroy();
  });
});

describe("rogue primaries against a secondary", () => {
  test("a server certificate whose SAN does not match primary_address is refused", async () => {
    const port = await freePort();
    const rogue = roguePrimary(port, material(certs, "wrong-san.crt", "wrong-san.key"));
    const secondary = new Node({ name: "lb-b", role: "secondary", port, certs, cert: "client-lb-b.crt", key: "client-lb-b.key" });
    nodes.push(secondary);
    secondary.start();
    await eventually("the secondary's refusal", () => /audit=controlplane_handshake_refused.*reason=name_mismatch/.test(secondary.output));
    expect(rogue.connections.length).toBe(0); // never got a usable connection
    rogue.server.close();
    await secondary.stop();
  }, 30_000);

  test("a client certificate presented as a server is refused", async () => {
    const port = await freePort();
    const rogue = roguePrimary(port, material(certs, "client-lb-c.crt", "client-lb-c.key"));
    const secondary = new Node({ name: "lb-b", role: "secondary", port, certs, cert: "client-lb-b.crt", key: "client-lb-b.key" });
    nodes.push(secondary);
    secondary.start();
    await eventually("the secondary's refusal", () => secondary.output.includes("audit=controlplane_handshake_refused"));
    expect(rogue.connections.length).toBe(0);
    rogue.server.close();
    await secondary.stop();
  }, 30_000);

  describe("an authorised but malicious primary", () => {
    let port = 0;
    let rogue: ReturnType<typeof roguePrimary>;
    let secondary: Node;
    let wire: Wire;
    let id = 100;
    const outside = mkdtempSync(join(tmpdir(), "lbctl-cp-outside-"));
    const b64 = (text: string) => Buffer.from(text).toString("base64");
    const file = (path: string, text: string) => ({ path, content: b64(text), checksum: sha256Hex(text) });
    const update = (files: { path: string; content: string; checksum: string }[], over: Record<string, unknown> = {}) => ({
      jsonrpc: "2.0",
      id: ++id,
      method: "config.update",
      params: { digest: bundleDigest(files), full: true, base: null, force: false, files, deleted: [], ...over },
    });
    async function answer(message: unknown): Promise<any> {
      wire.send(message);
      return wire.next();
    }
    let good: Record<string, string>;

    beforeAll(async () => {
      port = await freePort();
      rogue = roguePrimary(port, material(certs, "server.crt", "server.key"));
      secondary = new Node({ name: "lb-b", role: "secondary", port, certs, cert: "client-lb-b.crt", key: "client-lb-b.key", extra: "  limits: { max_files: 1000 }\n" });
      nodes.push(secondary);
      secondary.start();
      wire = await rogue.next();
      const hello = await wire.next();
      expect(hello.method).toBe("config.hello");
      wire.send({ jsonrpc: "2.0", id: hello.id, result: { node: "lb-a", digest: "0".repeat(64) } });
      const first = await answer(update([file("config.d/web.yaml", service("web", 80))]));
      expect(first.result.status).toBe("applied");
      good = secondary.files();
      mkdirSync(join(outside, "t"), { recursive: true });
      symlinkSync(join(outside, "t"), join(secondary.dir, "config.d", "linkdir"));
    }, 30_000);

    afterAll(() => rmSync(outside, { recursive: true, force: true }));

    async function unchanged(): Promise<void> {
      const files = secondary.files();
      delete files.linkdir;
      expect(files).toEqual(good);
      expect(((await secondary.status())?.services ?? []).map((s) => s.name)).toEqual(["web"]); // daemon alive, services kept
      expect(existsSync(join(outside, "t", "x.yaml"))).toBe(false);
    }

    test("../ paths, absolute paths and a symlinked folder: 1002", async () => {
      for (const path of ["config.d/../../../etc/x.yaml", "../x.yaml", join(outside, "x.yaml"), "config.d/linkdir/x.yaml"]) {
        const reply = await answer(update([file(path, service("evil", 81))]));
        expect(reply.error.code).toBe(1002);
      }
      // The include pattern does not match config.d/linkdir/x.yaml, so make the symlink a file-level trick too.
      symlinkSync(join(outside, "t", "x.yaml"), join(secondary.dir, "config.d", "evil.yaml"));
      const reply = await answer(update([file("config.d/web.yaml", service("web", 80)), file("config.d/evil.yaml", service("evil", 81))]));
      expect(reply.error.code).toBe(1002);
      expect(reply.error.message).toContain("symbolic link");
      rmSync(join(secondary.dir, "config.d", "evil.yaml"));
      await unchanged();
      // Each refusal is audited with the paths the primary named and who it was.
      expect(secondary.output).toMatch(/audit=controlplane_update_refused code=1002 reason=path_refused digest=[0-9a-f]{64} files_count=1 files=config\.d\/\.\.\/\.\.\/\.\.\/etc\/x\.yaml peer_cn=lb-a /);
      expect(secondary.output).toMatch(/audit=controlplane_update_refused .*files=config\.d\/web\.yaml,config\.d\/evil\.yaml /);
    });

    test("a wrong checksum: 1001", async () => {
      const bad = { ...file("config.d/web.yaml", service("web", 82)), checksum: sha256Hex("something else") };
      expect((await answer(update([bad]))).error.code).toBe(1001);
      await unchanged();
    });

    test("invalid YAML and a config that fails validation: 1003 with the errors", async () => {
      const yaml = await answer(update([file("config.d/web.yaml", "services: [ {name: web, ports: [80]")]));
      expect(yaml.error.code).toBe(1003);
      const invalid = await answer(update([file("config.d/web.yaml", "services:\n  - name: web\n    ports: [99999]\n")]));
      expect(invalid.error.code).toBe(1003);
      expect(invalid.error.data.errors[0].path).toBe("services[0].ports[0]");
      await unchanged();
    });

    test("10,000 files: 1005", async () => {
      const files = Array.from({ length: 10_000 }, (_, i) => file(`config.d/f${i}.yaml`, ""));
      expect((await answer(update(files))).error.code).toBe(1005);
      await unchanged();
    });

    test("malformed JSON: -32700, the connection stays usable", async () => {
      wire.sendRaw("{this is not json\n");
      expect((await wire.next()).error.code).toBe(-32700);
      expect((await answer(update([file("config.d/web.yaml", service("web", 80))]))).result.status).toBe("unchanged");
      await unchanged();
    });

    test("1,000 updates in a second: refused past max_updates_per_minute with 1004", async () => {
      const files = [file("config.d/web.yaml", service("web", 80))];
      for (let i = 0; i < 1000; i++) wire.send(update(files));
      const codes: (number | string)[] = [];
      for (let i = 0; i < 1000; i++) {
        const reply = await wire.next();
        codes.push(reply.error?.code ?? reply.result.status);
      }
      expect(codes.filter((code) => code === 1004).length).toBeGreaterThanOrEqual(1000 - 60);
      expect(codes.slice(0, 10).every((code) => code === "unchanged" || code === 1004)).toBe(true);
      await unchanged();
    }, 60_000);

    test("a 100 MB message: -32005 and the connection is closed; the secondary reconnects", async () => {
      const chunk = "x".repeat(1 << 20);
      wire.sendRaw('{"jsonrpc":"2.0","id":1,"method":"config.update","params":{"pad":"');
      const reply = wire.next(20_000);
      for (let i = 0; i < 100 && !wire.socket.destroyed; i++) wire.sendRaw(chunk);
      expect((await reply).error.code).toBe(-32005);
      await wire.closed;
      const again = await rogue.next(); // it reconnects: alive
      expect((await again.next()).method).toBe("config.hello");
      await unchanged();
    }, 60_000);
  });
});
