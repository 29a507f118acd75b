/**
 * The real daemon against a real kernel and real backends: failover and recovery, drift repair, reloads (invalid,
 * valid, over a limit), SIGTERM, VIP gating, and zero failed requests during reloads and restarts. Each test's
 * daemon, lbctl and ipvsadm run in a network namespace of its own, with its own IPVS table.
 */

import { describe, expect, test } from "bun:test";
import { daemonLab, labNamespace, startLabDaemon, writeDaemonConfig } from "./support/daemon-lab.ts";
import { waitFor } from "./support/lbctl-daemon.ts";
import { createLabNetwork, type LabServer, startTcpNameServer, tcpRequest } from "./support/index.ts";

const VIP = "10.202.0.1";
const VIP_2 = "10.202.0.2";
const INTERVAL_MS = 500;
const FAIL_AFTER = 2;
const RECONCILE_MS = 1000;
const T = 180_000;

const lab = daemonLab({ ownNamespace: true });
const ipvsadm = (args: string[]) => labNamespace(lab).ipvsadm(args);
const ipvsadmSave = () => labNamespace(lab).ipvsadmSave();
const runLbctl = (args: string[]) => labNamespace(lab).lbctl(args);

type Service = Record<string, unknown>;

function writeConfig(services: Service[], daemonSettings: Record<string, unknown> = {}): void {
  writeDaemonConfig(lab, {
    node: { name: "lab-a" },
    network: { frontend: { vip: VIP } },
    daemon: { reconcile_interval_ms: RECONCILE_MS, ...daemonSettings },
    observability: { logging: { console: { level: "debug" } }, metrics: { prometheus: { enabled: false } } },
  }, services);
}

const health = { enabled: true, type: "tcp", interval_ms: INTERVAL_MS, timeout_ms: 300, fail_after: FAIL_AFTER, recover_after: 2 };

async function webWithBackends(count: number): Promise<LabServer[]> {
  lab.network = createLabNetwork({ backends: count, director: labNamespace(lab) });
  lab.network.addDirectorAddress(VIP);
  const servers = await Promise.all(lab.network.backends.map((b) => startTcpNameServer(b, 80)));
  writeConfig([{ name: "web", ports: [80], scheduler: "rr", backends: lab.network.backends.map((b) => ({ address: b.address, weight: 2 })), health }]);
  return servers;
}

const weightOf = (backend: string) => {
  const line = ipvsadmSave().find((l) => l.startsWith(`-a -t ${VIP}:80 -r ${backend}:80 `));
  return line ? Number(/-w (\d+)/.exec(line)?.[1]) : undefined;
};

async function status(): Promise<any> {
  const result = await runLbctl(["status", "--json", "--config", lab.tree!.main]);
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdout);
}

/** How many "Probe ok" / "Probe failed" lines (debug level) for `address`, port 80, the log text holds. */
function probesOf(log: string, verdict: "ok" | "failed", address: string): number {
  return log.split("\n").filter((line) => line.includes(`Probe ${verdict}`) && line.includes(`backend=${address}:80`)).length;
}

/** Waits until the daemon logs a periodic reconcile after log offset `from`. */
async function waitForIntervalReconcile(from: number): Promise<void> {
  await waitFor(() => /Reconciled.*trigger=interval/.test(lab.daemon!.log().slice(from)), RECONCILE_MS + 10_000, "a periodic reconcile");
}

describe("lbctl daemon", () => {
  test("a stopped backend gets weight 0 within fail_after × interval, traffic goes to the survivor, and it recovers", async () => {
    const servers = await webWithBackends(2);
    lab.daemon = await startLabDaemon(lab);
    const [first, second] = lab.network!.backends;
    await waitFor(() => weightOf(first!.address) === 2 && weightOf(second!.address) === 2, 10_000, "both backends programmed");
    const view = await status();
    expect(view.daemon).toBe(true);
    await waitFor(async () => (await status()).services[0].destinations.every((d: any) => d.health === "healthy"), 30_000, "both healthy");

    const logBefore = lab.daemon.log().length;
    servers[0]!.stop();
    const stoppedAt = performance.now();
    // The daemon logs the weight change once the kernel has acknowledged it: a signal read every 100 ms, where
    // polling ipvsadm through `ip netns exec` costs seconds in a loaded guest. The kernel is checked right after.
    const weightZero = new RegExp(`Backend weight changed .*backend=${first!.address}:80 .*new_weight=0`);
    await waitFor(() => weightZero.test(lab.daemon!.log().slice(logBefore)), 15_000, "the change to weight 0 in the log");
    const elapsed = performance.now() - stoppedAt;
    // fail_after probes at the interval, plus one interval of phase, plus margin for the emulated guest.
    expect(elapsed).toBeLessThan((FAIL_AFTER + 1) * INTERVAL_MS + 2500);
    expect(ipvsadmSave()).toContain(`-a -t ${VIP}:80 -r ${first!.address}:80 -m -w 0`);
    const answers = [1, 2, 3, 4].map(() => tcpRequest(lab.network!.client, VIP, 80));
    expect(new Set(answers)).toEqual(new Set([second!.name]));
    const down = (await status()).services[0].destinations.find((d: any) => d.backend === `${first!.address}:80`);
    expect(down).toMatchObject({ health: "unhealthy", weight: 0, configured_weight: 2 });

    await startTcpNameServer(first!, 80);
    await waitFor(() => weightOf(first!.address) === 2, 15_000, "recovery to the configured weight");
    expect(lab.daemon.log()).toContain("Backend unhealthy");
    expect(lab.daemon.log()).toContain("Backend healthy");
  }, T);

  test("an external ipvsadm -C is repaired within one reconcile interval", async () => {
    await webWithBackends(1);
    lab.daemon = await startLabDaemon(lab);
    await waitFor(() => weightOf(lab.network!.backends[0]!.address) === 2, 10_000, "programmed");
    const before = ipvsadmSave();
    const logBefore = lab.daemon.log().length;
    ipvsadm(["-C"]);
    const cleared = performance.now();
    // The repair's own log line is the signal (polling ipvsadm through `ip netns exec` costs seconds under load).
    await waitFor(() => /Reconciled .*trigger=interval changes=[1-9]/.test(lab.daemon!.log().slice(logBefore)), 10_000, "the repair in the log");
    expect(performance.now() - cleared).toBeLessThan(RECONCILE_MS + 1500);
    expect(ipvsadmSave()).toEqual(before);
  }, T);

  test("SIGHUP with an invalid config changes nothing and the daemon lives on; a valid edit appears at once", async () => {
    await webWithBackends(1);
    lab.daemon = await startLabDaemon(lab);
    await waitFor(() => weightOf(lab.network!.backends[0]!.address) === 2, 10_000, "programmed");
    const before = ipvsadmSave();
    lab.tree!.write("config.d/services.yaml", "services:\n  - name: web\n    ports: [80]\n    scheduler: bogus\n");
    lab.daemon.signal("SIGHUP");
    await waitFor(() => lab.daemon!.log().includes("Config reload refused"), 10_000, "the refusal in the log");
    expect(ipvsadmSave()).toEqual(before);
    writeConfig([{ name: "web", ports: [80, 8080], scheduler: "wrr", backends: [{ address: lab.network!.backends[0]!.address, weight: 2 }], health }]);
    const logBefore = lab.daemon.log().length;
    const sent = performance.now();
    lab.daemon.signal("SIGHUP");
    await waitFor(() => ipvsadmSave().includes(`-A -t ${VIP}:8080 -s wrr`), 10_000, "the edit in the kernel");
    // A reload runs at once, not at the next reconcile; the margin is for the loaded emulated guest (3.4 s seen).
    expect(performance.now() - sent).toBeLessThan(RECONCILE_MS + 5000);
    // Applied by the reload (the periodic repair only restores the loaded config), and all of it.
    await waitFor(() => lab.daemon!.log().slice(logBefore).includes("Config reloaded"), 10_000, "the reload in the log");
    expect(ipvsadmSave().filter((rule) => rule.startsWith("-A"))).toEqual([`-A -t ${VIP}:80 -s wrr`, `-A -t ${VIP}:8080 -s wrr`]);
    expect(lab.daemon.process.exitCode).toBeNull();
  }, T);

  test("a reload keeps the health of unchanged targets: a dead backend stays at weight 0 after an unrelated edit", async () => {
    const servers = await webWithBackends(2);
    lab.daemon = await startLabDaemon(lab);
    const [first] = lab.network!.backends;
    await waitFor(() => weightOf(first!.address) === 2, 10_000, "programmed");
    servers[0]!.stop();
    await waitFor(() => weightOf(first!.address) === 0, 15_000, "weight 0");
    writeConfig([
      { name: "web", ports: [80], scheduler: "rr", backends: lab.network!.backends.map((b) => ({ address: b.address, weight: 3 })), health },
      { name: "other", ports: [81], backends: [{ address: first!.address }] },
    ]);
    const logBefore = lab.daemon.log().length;
    const reload = await runLbctl(["reload", "--json", "--config", lab.tree!.main]);
    expect(reload.exitCode).toBe(0);
    expect(JSON.parse(reload.stdout).result).toBe("success");
    expect(weightOf(first!.address)).toBe(0);
    expect(weightOf(lab.network!.backends[1]!.address)).toBe(3);
    // The daemon keeps probing the dead backend after the reload (fail_after more failures), and a periodic
    // reconcile runs after them: only then is "still 0" evidence that nothing reset it.
    const sinceReload = () => lab.daemon!.log().slice(logBefore);
    await waitFor(() => probesOf(sinceReload(), "failed", first!.address) >= FAIL_AFTER, 10 * INTERVAL_MS + 10_000, `${FAIL_AFTER} failed probes after the reload`);
    const afterProbes = lab.daemon.log().length;
    await waitFor(() => /Reconciled.*trigger=interval/.test(lab.daemon!.log().slice(afterProbes)), RECONCILE_MS + 10_000, "a periodic reconcile after those probes");
    expect(weightOf(first!.address)).toBe(0);
  }, T);

  test("a reload over a change limit is refused (exit 3 through apply), --force goes through the daemon", async () => {
    await webWithBackends(1);
    writeConfig([{ name: "web", ports: ["80-83"], backends: [{ address: lab.network!.backends[0]!.address }] }], { change_limits: { max_services_deleted: 1 } });
    lab.daemon = await startLabDaemon(lab);
    await waitFor(() => ipvsadmSave().filter((l) => l.startsWith("-A")).length === 4, 10_000, "programmed");
    writeConfig([{ name: "web", ports: [80], backends: [{ address: lab.network!.backends[0]!.address }] }], { change_limits: { max_services_deleted: 1 } });
    const refused = await runLbctl(["apply", "--json", "--config", lab.tree!.main]);
    expect(refused.exitCode).toBe(3);
    expect(JSON.parse(refused.stdout)).toMatchObject({ applied: false, daemon: true, limit: { name: "max_services_deleted", limit: 1, planned: 3 } });
    expect(ipvsadmSave().filter((l) => l.startsWith("-A"))).toHaveLength(4);
    const forced = await runLbctl(["apply", "--force", "--json", "--config", lab.tree!.main]);
    expect(forced.exitCode).toBe(0);
    expect(ipvsadmSave().filter((l) => l.startsWith("-A"))).toHaveLength(1);
    const disable = await runLbctl(["disable", "--config", lab.tree!.main]);
    expect(disable.exitCode).toBe(1);
    expect(disable.stderr).toContain("stop it first");
    // Another config file that names the same socket is not what the daemon would reload: refused, nothing applied.
    const other = lab.tree!.write("elsewhere/config.yaml", await Bun.file(lab.tree!.main).text());
    const wrongFile = await runLbctl(["apply", "--config", other]);
    expect(wrongFile.exitCode).toBe(1);
    expect(wrongFile.stderr).toContain(`runs ${lab.tree!.main}, not ${other}`);
  }, T);

  test("SIGTERM exits 0 within 5 s and leaves the rules in place", async () => {
    await webWithBackends(1);
    lab.daemon = await startLabDaemon(lab);
    await waitFor(() => weightOf(lab.network!.backends[0]!.address) === 2, 10_000, "programmed");
    const before = ipvsadmSave();
    const { exitCode, ms } = await lab.daemon.stop("SIGTERM");
    expect(exitCode).toBe(0);
    expect(ms).toBeLessThan(5000);
    expect(ipvsadmSave()).toEqual(before);
    // Traffic still flows with no daemon. A loaded emulated guest can drop one exchange with the socat backend (an
    // empty answer, seen once in a full run), so a few tries are allowed: the rules, checked above, are what count.
    const backend = lab.network!.backends[0]!.name;
    await waitFor(() => tcpRequest(lab.network!.client, VIP, 80) === backend, 60_000, "an answer through the VIP after the daemon stopped");
  }, T);

  for (const standby of ["warm", "cold"] as const) {
    test(`VIP gating, ${standby} standby: VIP removed from the interface → standby; VIP added → active`, async () => {
      lab.network = createLabNetwork({ backends: 1, director: labNamespace(lab) });
      lab.network.addDirectorAddress(VIP);
      await startTcpNameServer(lab.network.backends[0]!, 80);
      writeConfig(
        [
          { name: "web", ports: [80], backends: [{ address: lab.network.backends[0]!.address }] },
          { name: "second", vip: VIP_2, ports: [80], backends: [{ address: lab.network.backends[0]!.address }] },
        ],
        { standby },
      );
      lab.daemon = await startLabDaemon(lab);
      const onSecond = () => ipvsadmSave().filter((l) => l.includes(VIP_2)).length;
      await waitFor(() => weightOf(lab.network!.backends[0]!.address) === 1, 10_000, "programmed");
      // A periodic reconcile has run with the second VIP absent: what it left is the standby's doing.
      await waitForIntervalReconcile(0);
      expect(onSecond()).toBe(standby === "warm" ? 2 : 0);
      lab.network.addDirectorAddress(VIP_2);
      await waitFor(() => onSecond() === 2, RECONCILE_MS + 3000, "the acquired VIP programmed");
      await waitFor(() => new RegExp(`VIP acquired.*vip=${VIP_2}`).test(lab.daemon!.log()), RECONCILE_MS + 3000, "the acquire of the second VIP logged");
      lab.network.removeDirectorAddress(VIP_2);
      await waitFor(() => new RegExp(`VIP released.*vip=${VIP_2}`).test(lab.daemon!.log()), RECONCILE_MS + 3000, "the release of the second VIP logged");
      await waitForIntervalReconcile(lab.daemon.log().length);
      expect(onSecond()).toBe(standby === "warm" ? 2 : 0);
      expect(ipvsadmSave().filter((l) => l.includes(VIP)).length).toBe(2);
    }, T);
  }

  test("no failed request during 20 reloads that touch other services, nor during a daemon restart", async () => {
    await webWithBackends(2);
    lab.daemon = await startLabDaemon(lab);
    await waitFor(() => lab.network!.backends.every((b) => weightOf(b.address) === 2), 10_000, "programmed");
    await waitFor(async () => (await status()).services[0].destinations.every((d: any) => d.health === "healthy"), 30_000, "both healthy");
    let failures = 0;
    let requests = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        const probe = Bun.spawn(["ip", "netns", "exec", lab.network!.client.name, "socat", "-t5", "-T5", "-", `TCP:${VIP}:80,connect-timeout=5`], {
          stdin: "ignore",
          stdout: "pipe",
          stderr: "ignore",
        });
        const answer = (await new Response(probe.stdout).text()).trim();
        const code = await probe.exited;
        requests++;
        if (code !== 0 || !answer.startsWith("lab")) {
          failures++;
          console.error(`request ${requests} failed: exit ${code}, answer "${answer}", daemon log tail:\n${lab.daemon?.log().split("\n").slice(-8).join("\n")}`);
        }
      }
    })();
    // Whatever happens, the request loop ends with the test (it reads lab.network, released after it).
    try {
      for (let i = 0; i < 20; i++) {
        writeConfig([
          { name: "web", ports: [80], scheduler: "rr", backends: lab.network!.backends.map((b) => ({ address: b.address, weight: 2 })), health },
          { name: `other`, ports: [9000 + (i % 3)], scheduler: i % 2 ? "rr" : "wrr", backends: [{ address: lab.network!.backends[0]!.address, weight: 1 + i }] },
        ]);
        lab.daemon.signal("SIGHUP");
        await Bun.sleep(300);
      }
      // Signals that arrive during a reload are folded into the next one, so the count of reloads varies; the last
      // config in the kernel is what shows they are done (port 9001, rr, weight 20 from i = 19).
      const backend = lab.network!.backends[0]!.address;
      await waitFor(() => ipvsadmSave().includes(`-a -t ${VIP}:9001 -r ${backend}:9001 -m -w 20`), 60_000, "the last reload's config in the kernel");
      expect(ipvsadmSave()).toContain(`-A -t ${VIP}:9001 -s rr`);
      expect(lab.daemon.log().split("Config reloaded").length - 1).toBeGreaterThanOrEqual(1);
      const restarted = await lab.daemon.stop("SIGTERM");
      expect(restarted.exitCode).toBe(0);
      lab.daemon = await startLabDaemon(lab);
      // Traffic goes on while the new daemon adopts the table, probes both backends and runs a periodic reconcile.
      const requestsAtRestart = requests;
      await waitFor(
        () => lab.network!.backends.every((b) => probesOf(lab.daemon!.log(), "ok", b.address) > 0),
        30_000,
        "the restarted daemon probing both backends",
      );
      await waitForIntervalReconcile(0);
      await waitFor(() => requests >= requestsAtRestart + 3, 60_000, "requests served after the restart");
    } finally {
      running = false;
      await loop;
    }
    // A request is a process in the emulated guest (hundreds of ms, more on a busy host): eight show the load ran
    // through the reloads and the restart (three of them after it, waited for above).
    expect(requests).toBeGreaterThanOrEqual(8);
    expect(failures).toBe(0);
  }, T);
});
