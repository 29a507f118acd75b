/**
 * The metrics path over HTTP: gzip when the scraper accepts it (as Prometheus does), plain otherwise, both read by
 * real clients (curl --compressed, promtool check metrics); a change of the model shows in the next scrape (a stats
 * sample once rendered ahead).
 */

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { acceptsGzip } from "../../src/observability/http/accept-encoding.ts";
import { serveMetrics, type MetricsServer } from "../../src/observability/http/metrics-server.ts";
import { MetricsModel } from "../../src/observability/metrics/model.ts";
import { createMetricsRegistry, type MetricsRegistry } from "../../src/observability/metrics/registry.ts";
import { configLoaded, sample } from "./support.ts";

let server: MetricsServer | undefined;
afterEach(() => {
  server?.stop();
  server = undefined;
});

function serve(): { model: MetricsModel; registry: MetricsRegistry; url: string } {
  const model = new MetricsModel();
  model.emit(configLoaded([{ service: 'we"b', backends: ["10.0.0.1:80", "[2001:db8::1]:80"], health: true }]));
  model.emit({ type: "ipvs-stats", destinations: [sample('we"b', "10.0.0.1:80", 80, { bytesIn: 2 ** 42, connections: 12 })] });
  model.emit({ type: "probe", service: 'we"b', backend: "10.0.0.1:80", ok: true, latencyMs: 3, reason: "connected" });
  const registry = createMetricsRegistry(model);
  server = serveMetrics({ bind: "127.0.0.1", port: 0, path: "/metrics" }, { scrape: () => registry.scrape(), contentType: registry.contentType, alive: () => true });
  return { model, registry, url: `http://127.0.0.1:${server.port}/metrics` };
}

/** The response as sent (fetch would decompress it). */
async function raw(url: string, acceptEncoding: string | undefined): Promise<{ headers: Headers; body: Buffer }> {
  const response = await fetch(url, { headers: acceptEncoding === undefined ? {} : { "accept-encoding": acceptEncoding }, decompress: false });
  expect(response.status).toBe(200);
  return { headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** A run of a real client; stdout as text. */
async function run(command: string[], stdin?: Uint8Array): Promise<{ code: number; out: string; err: string }> {
  const child = Bun.spawn(command, { stdin: stdin ?? "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, out, err };
}

const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
const lineOf = (text: string, prefix: string) => text.split("\n").find((line) => line.startsWith(prefix));

describe("the metrics path", () => {
  test("Accept-Encoding: gzip (Prometheus): a gzip body of the same text, with Content-Encoding and Vary", async () => {
    const { url } = serve();
    const gzip = await raw(url, "gzip");
    expect(gzip.headers.get("content-encoding")).toBe("gzip");
    expect(gzip.headers.get("vary")).toBe("Accept-Encoding");
    expect(gzip.headers.get("content-type")).toBe(CONTENT_TYPE);
    expect([gzip.body[0], gzip.body[1]]).toEqual([0x1f, 0x8b]);
    const plain = await raw(url, "identity");
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(plain.headers.get("vary")).toBe("Accept-Encoding");
    expect(plain.headers.get("content-type")).toBe(CONTENT_TYPE);
    const text = gunzipSync(gzip.body).toString();
    expect(text).toContain(`lbctl_ipvs_bytes_in_total{node="lb-a",service="we\\"b",backend="10.0.0.1:80"} ${2 ** 42}\n`);
    // The two bodies differ only in the process_* values read at each scrape.
    const own = (body: string) => body.split("\n").filter((line) => !line.startsWith("process_"));
    expect(own(text)).toEqual(own(plain.body.toString()));
  });

  test("no Accept-Encoding, or gzip refused (q=0), or only other codings: plain", async () => {
    const { url } = serve();
    for (const header of [undefined, "", "gzip;q=0", "br, zstd", "identity, *;q=0"]) {
      const response = await raw(url, header);
      expect({ header, encoding: response.headers.get("content-encoding") }).toEqual({ header, encoding: null });
      expect(response.body.toString()).toStartWith("# HELP lbctl_vip_is_owner");
    }
  });

  test("curl --compressed (asking for gzip) reads the whole exposition; promtool check metrics accepts the plain one", async () => {
    const { url } = serve();
    const plain = (await raw(url, "identity")).body;
    const dir = mkdtempSync(join(tmpdir(), "lbctl-curl-"));
    try {
      // curl sends its own `Accept-Encoding: deflate, gzip, br, zstd` and decompresses.
      const curl = await run(["curl", "-sS", "--fail", "--compressed", "-o", join(dir, "body"), "-w", "%header{content-encoding}", url]);
      expect({ code: curl.code, err: curl.err, encoding: curl.out }).toEqual({ code: 0, err: "", encoding: "gzip" });
      const body = readFileSync(join(dir, "body"), "utf8");
      expect(body.split("\n").filter((line) => line.startsWith("lbctl_"))).toEqual(plain.toString().split("\n").filter((line) => line.startsWith("lbctl_")));
      expect(body.endsWith("\n")).toBe(true);
      const promtoolGzip = await run(["promtool", "check", "metrics"], Buffer.from(body));
      expect({ code: promtoolGzip.code, output: `${promtoolGzip.out}${promtoolGzip.err}` }).toEqual({ code: 0, output: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const promtool = await run(["promtool", "check", "metrics"], plain);
    expect({ code: promtool.code, output: `${promtool.out}${promtool.err}` }).toEqual({ code: 0, output: "" });
  });

  test("a change of the model shows in the very next scrape (a stats sample once rendered ahead), gzip or plain, never the cached text", async () => {
    const { model, registry, url } = serve();
    const healthy = `lbctl_health_backend_healthy{node="lb-a",service="we\\"b",backend="10.0.0.1:80"}`;
    const bytes = `lbctl_ipvs_bytes_in_total{node="lb-a",service="we\\"b",backend="10.0.0.1:80"}`;
    const gzipText = async () => gunzipSync((await raw(url, "gzip")).body).toString();
    const plainText = async () => (await raw(url, undefined)).body.toString();
    expect(lineOf(await gzipText(), healthy)).toBe(`${healthy} 0`);
    expect(lineOf(await plainText(), healthy)).toBe(`${healthy} 0`);
    model.emit({ type: "health-transition", service: 'we"b', backend: "10.0.0.1:80", from: "unknown", to: "healthy", reason: "connected" });
    expect(lineOf(await gzipText(), healthy)).toBe(`${healthy} 1`);
    expect(lineOf(await plainText(), healthy)).toBe(`${healthy} 1`);
    model.emit({ type: "ipvs-stats", destinations: [sample('we"b', "10.0.0.1:80", 80, { bytesIn: 2 ** 42 + 5 })] });
    // Until the sample's families are rendered, a scrape may be served them as before it: the old value or the new.
    expect([`${bytes} ${2 ** 42}`, `${bytes} ${2 ** 42 + 5}`]).toContain(lineOf(await plainText(), bytes)!);
    await registry.settled();
    expect(lineOf(await plainText(), bytes)).toBe(`${bytes} ${2 ** 42 + 5}`);
    expect(lineOf(await gzipText(), bytes)).toBe(`${bytes} ${2 ** 42 + 5}`);
  });

  test("HEAD: the headers of the same response, no body", async () => {
    const { url } = serve();
    const response = await fetch(url, { method: "HEAD", headers: { "accept-encoding": "gzip" }, decompress: false });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-encoding")).toBe("gzip");
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });
});

test("acceptsGzip: RFC 9110 codings with quality values", () => {
  const cases: [string | null, boolean][] = [
    [null, false],
    ["", false],
    ["gzip", true],
    ["GZIP", true],
    ["x-gzip", true],
    ["gzip, deflate, br", true],
    ["deflate, gzip;q=0.5", true],
    ["gzip;q=0", false],
    ["gzip; q=0.000", false],
    ["gzip;q=1.0", true],
    ["*", true],
    ["*;q=0", false],
    ["gzip;q=0, *", false],
    ["identity", false],
    ["br;q=1, identity;q=0.5", false],
    ["gzip;q=garbage", false],
    ["gzip;level=9", true],
  ];
  for (const [header, expected] of cases) expect({ header, accepts: acceptsGzip(header) }).toEqual({ header, accepts: expected });
});
