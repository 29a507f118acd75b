/**
 * Observability of the real daemon against a real kernel: IPVS byte counters that grow with traffic through the
 * VIP, a scrape that passes `promtool check metrics`, series that go with a backend removed from the config,
 * /health, audit records in the log, and a metrics port in use that stops the daemon before it is ready.
 *
 * Each test's daemon runs in a network namespace of its own, with its own IPVS table (read with ipvsadm inside it)
 * and its own loopback: the metrics listener is reached from inside the namespace too (curl through
 * `ip netns exec`; Bun's fetch connects from another thread, which setns(2) on this one would not move).
 */

import { describe, expect, test } from "bun:test";
import { daemonLab, labNamespace, startLabDaemon, writeDaemonConfig } from "./support/daemon-lab.ts";
import { waitFor } from "./support/lbctl-daemon.ts";
import { createLabNetwork, startTcpNameServer, tcpRequest } from "./support/index.ts";

const VIP = "10.203.0.1";
const METRICS_PORT = 19190;
const BASE = `http://127.0.0.1:${METRICS_PORT}`;
const T = 180_000;

const lab = daemonLab({ ownNamespace: true });

function writeConfig(backends: string[]): void {
  const health = { enabled: true, type: "tcp", interval_ms: 500, timeout_ms: 300, fail_after: 2, recover_after: 1 };
  writeDaemonConfig(
    lab,
    {
      node: { name: "lab-obs" },
      network: { frontend: { vip: VIP } },
      daemon: { reconcile_interval_ms: 500, stats_collection_interval_cycles: 1 },
      observability: { logging: { console: { level: "warn" } }, metrics: { prometheus: { bind: "127.0.0.1", port: METRICS_PORT, path: "/metrics" } } },
    },
    [{ name: "web", ports: [80], scheduler: "rr", backends: backends.map((address) => ({ address })), health }],
    "config.d/web.yaml",
  );
}

/** curl's exit code when it cannot connect: nothing listens on the port. */
const CURL_COULDNT_CONNECT = 7;

/** An HTTP GET from inside the test's namespace: curl's exit code, and the status and body when it connected. */
async function get(path: string): Promise<{ curlExit: number; status: number; body: string }> {
  const proc = Bun.spawn(labNamespace(lab).command(["curl", "-sS", "--max-time", "30", "-w", "\n%{http_code}", `${BASE}${path}`]), { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, curlExit] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  const split = out.lastIndexOf("\n");
  return { curlExit, status: Number(out.slice(split + 1)), body: out.slice(0, Math.max(split, 0)) };
}

async function scrape(): Promise<string> {
  const response = await get("/metrics");
  expect(response.curlExit).toBe(0);
  expect(response.status).toBe(200);
  return response.body;
}

function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** One destination's counters as the kernel reports them (`ipvsadm -Ln --stats --exact` in the test's namespace). */
interface KernelCounters {
  connections: number;
  packetsIn: number;
  bytesIn: number;
}

function readKernelCounters(): Map<string, KernelCounters> {
  const counters = new Map<string, KernelCounters>();
  for (const line of labNamespace(lab).ipvsadm(["-Ln", "--stats", "--exact"]).split("\n")) {
    // -> ADDR:PORT  Conns InPkts OutPkts InBytes OutBytes
    const match = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+\d+\s+(\d+)\s+\d+\s*$/.exec(line);
    if (match) counters.set(match[1]!, { connections: Number(match[2]), packetsIn: Number(match[3]), bytesIn: Number(match[4]) });
  }
  return counters;
}

/**
 * The kernel's counters per destination ("ADDR:PORT") once they hold all `connections` and stay the same across
 * an estimator period: the kernel folds its per-CPU counters into what ipvsadm reads every 2 s, so a read can lag
 * the traffic by that much (and the last packets of a connection, its FIN and ACK, follow the client's exit).
 */
async function settledKernelCounters(connections: number): Promise<Map<string, KernelCounters>> {
  const total = (counters: Map<string, KernelCounters>) => [...counters.values()].reduce((sum, c) => sum + c.connections, 0);
  await waitFor(() => total(readKernelCounters()) >= connections, 15_000, `the kernel to count ${connections} connections`);
  let previous = JSON.stringify([...readKernelCounters()]);
  for (let i = 0; i < 8; i++) {
    await Bun.sleep(2_500);
    const current = JSON.stringify([...readKernelCounters()]);
    if (current === previous) return new Map(JSON.parse(current));
    previous = current;
  }
  throw new Error(`The kernel's counters did not settle: ${previous}`);
}

const bytesIn = (backend: string) => `lbctl_ipvs_bytes_in_total{node="lab-obs",service="web",backend="${backend}:80"}`;

describe("lbctl daemon observability", () => {
  test("traffic through the VIP grows the serving backend's byte counters; promtool accepts the scrape; /health is 200", async () => {
    lab.network = createLabNetwork({ backends: 2, director: labNamespace(lab) });
    lab.network.addDirectorAddress(VIP);
    await Promise.all(lab.network.backends.map((b) => startTcpNameServer(b, 80)));
    writeConfig(lab.network.backends.map((b) => b.address));
    lab.daemon = await startLabDaemon(lab);
    const [first, second] = lab.network.backends;
    const healthy = (backend: string) => `lbctl_health_backend_healthy{node="lab-obs",service="web",backend="${backend}:80"}`;
    await waitFor(async () => {
      const text = await scrape();
      return value(text, healthy(first!.address)) === 1 && value(text, healthy(second!.address)) === 1;
    }, 15_000, "both backends healthy");

    const before = await scrape();
    // Answers are not checked: under emulation the name server may close before its reply, but the connection
    // went through IPVS all the same. Each request is finished before the next starts, and the split between the
    // backends is the kernel's business: its own counters (ipvsadm --stats --exact) are the oracle.
    const requests = 8;
    for (let i = 0; i < requests; i++) await tcpRequest(lab.network.client, VIP, 80);
    const kernel = await settledKernelCounters(requests);
    const series = (name: string, backend: string) => `lbctl_ipvs_${name}_total{node="lab-obs",service="web",backend="${backend}:80"}`;
    // Health probes go to the backends' own addresses, so every connection through IPVS is one of ours.
    expect([first!, second!].reduce((sum, b) => sum + (kernel.get(`${b.address}:80`)?.connections ?? 0), 0)).toBe(requests);
    for (const backend of [first!, second!]) {
      const expected = kernel.get(`${backend.address}:80`)!;
      expect(expected.bytesIn).toBeGreaterThan(value(before, bytesIn(backend.address)) ?? 0);
      // The kernel's estimator folds per-destination counters in within about 2 s; stats are read every cycle.
      await waitFor(async () => value(await scrape(), bytesIn(backend.address)) === expected.bytesIn, 15_000, `bytes in of ${backend.address} to reach ${expected.bytesIn}`);
      const after = await scrape();
      expect({ backend: backend.address, connections: value(after, series("connections", backend.address)), packetsIn: value(after, series("packets_in", backend.address)) })
        .toEqual({ backend: backend.address, connections: expected.connections, packetsIn: expected.packetsIn });
    }
    const after = await scrape();
    expect(value(after, `lbctl_health_backend_weight{node="lab-obs",service="web",backend="${first!.address}:80"}`)).toBe(1);
    expect(value(after, `lbctl_vip_is_owner{node="lab-obs",vip="${VIP}"}`)).toBe(1);
    expect(value(after, `lbctl_health_check_latency_seconds_count{node="lab-obs",service="web",backend="${first!.address}:80"}`)).toBeGreaterThan(0);

    const promtool = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: new TextEncoder().encode(after), stdout: "pipe", stderr: "pipe" });
    expect(`${promtool.stdout}${promtool.stderr}`).toBe("");
    expect(promtool.exitCode).toBe(0);

    const health = await get("/health");
    expect(health.status).toBe(200);
    expect((await get("/nope")).status).toBe(404);
    // At console level warn, audit records are still written.
    expect(lab.daemon.log()).toContain("audit=daemon_started");
    expect(lab.daemon.log()).toContain("audit=destination_created");
    const stopped = await lab.daemon.stop("SIGTERM");
    expect(stopped.exitCode).toBe(0);
    expect(lab.daemon.log()).toContain("audit=daemon_stopping");
    expect((await get("/health")).curlExit).toBe(CURL_COULDNT_CONNECT);
  }, T);

  test("a backend removed from the config loses its series after a reload; the other keeps counting", async () => {
    lab.network = createLabNetwork({ backends: 2, director: labNamespace(lab) });
    lab.network.addDirectorAddress(VIP);
    await Promise.all(lab.network.backends.map((b) => startTcpNameServer(b, 80)));
    const [first, second] = lab.network.backends;
    writeConfig([first!.address, second!.address]);
    lab.daemon = await startLabDaemon(lab);
    for (let i = 0; i < 4; i++) tcpRequest(lab.network.client, VIP, 80, { payload: "hello" });
    await waitFor(async () => (value(await scrape(), bytesIn(second!.address)) ?? 0) > 0, 15_000, "traffic counted for the second backend");
    const kept = value(await scrape(), bytesIn(first!.address)) ?? 0;

    writeConfig([first!.address]);
    lab.daemon.signal("SIGHUP");
    await waitFor(async () => !(await scrape()).includes(`backend="${second!.address}:80"`), 10_000, "the removed backend's series to go");
    const text = await scrape();
    expect(value(text, bytesIn(first!.address))).toBeGreaterThanOrEqual(kept);
    expect(value(text, `lbctl_config_reloads_total{node="lab-obs",result="success"}`)).toBe(1);
    expect(lab.daemon.log()).toContain("audit=config_changed");
  }, T);

  test("a metrics port in use is fatal at start: exit 1 with a clear error, nothing programmed", async () => {
    writeConfig(["10.203.1.1"]);
    const namespace = labNamespace(lab);
    // The port is taken on the namespace's loopback: Bun.serve listens on this thread, inside for the call.
    const blocker = namespace.enter(() => Bun.serve({ hostname: "127.0.0.1", port: METRICS_PORT, fetch: () => new Response("") }));
    try {
      expect((await get("/")).status).toBe(200);
      const child = Bun.spawn(namespace.lbctlCommand(["daemon", "--config", lab.tree!.main]), { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
      const exitCode = await child.exited;
      const stderr = await new Response(child.stderr).text();
      expect(exitCode).toBe(1);
      expect(stderr).toContain(`Cannot listen for metrics on 127.0.0.1:${METRICS_PORT}`);
      expect(namespace.ipvsadmSave()).toEqual([]);
    } finally {
      void blocker.stop(true);
    }
  }, T);
});
