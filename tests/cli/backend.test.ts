/**
 * `lbctl backend` through a real daemon's real control socket (the test-only memory kernel stands in for IPVS; the
 * kernel lab test tests/lab/overrides.test.ts does the same against real IPVS with traffic): the override reaches
 * the table before the command returns, shows in status, list and metrics with who made it, and a restarted
 * daemon keeps it.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { configTree, type ConfigTree } from "../support/config-tree.ts";
import { lbctlCommandLine, runLbctl } from "../support/run-lbctl.ts";
import { freePort } from "../controlplane/support/pair.ts";
import { daemonAnswers } from "../../src/daemon/control-client.ts";

let tree: ConfigTree | undefined;
let daemon: ReturnType<typeof Bun.spawn> | undefined;
let output = "";

afterEach(async () => {
  daemon?.kill("SIGKILL");
  await daemon?.exited;
  daemon = undefined;
  tree?.remove();
  tree = undefined;
});

async function startDaemon(t: ConfigTree): Promise<void> {
  output = "";
  const proc = Bun.spawn([...lbctlCommandLine(), "daemon", "--config", t.main], {
    env: { ...process.env, LBCTL_TEST_MEMORY_KERNEL: "1", NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  daemon = proc;
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream as ReadableStream<Uint8Array>) output += decoder.decode(chunk);
    })();
  }
  const deadline = Date.now() + 20_000;
  while (!(await daemonAnswers(t.path("lbctl.sock")))) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`the daemon did not start:\n${output}`);
    await Bun.sleep(50);
  }
}

const lbctl = (args: string[], env: Record<string, string> = {}) => runLbctl([...args, "--config", tree!.main], env);

async function weights(): Promise<Record<string, number | null>> {
  const run = await lbctl(["status", "--json"]);
  expect(run.exitCode).toBe(0);
  const view = JSON.parse(run.stdout);
  return Object.fromEntries(view.services.flatMap((s: any) => s.destinations.map((d: any) => [`${s.service}>${d.destination}`, d.weight])));
}

describe("lbctl backend through the daemon's control socket", () => {
  test("drain, weight, enable, list, metrics, audit with the login user, and a restart keeps the override", async () => {
    const port = await freePort();
    tree = configTree({
      main: `node: { name: lb-a }
network: { frontend: { vip: 192.0.2.10 } }
system: { state_dir: STATE }
daemon: { socket: SOCKET, reconcile_interval_ms: 200 }
observability: { metrics: { prometheus: { enabled: true, bind: 127.0.0.1, port: ${port} } } }
`,
      services: { "web.yaml": "services:\n  - name: web\n    ports: [80, 443]\n    backends: [{ address: 10.0.0.1, weight: 4 }, { address: 10.0.0.2, weight: 4 }]\n" },
    });
    tree.write("config.yaml", readFileSync(tree.main, "utf8").replace("STATE", tree.path("state")).replace("SOCKET", tree.path("lbctl.sock")));
    await startDaemon(tree);
    expect(await weights()).toEqual({ "tcp:192.0.2.10:80>10.0.0.1:80": 4, "tcp:192.0.2.10:80>10.0.0.2:80": 4, "tcp:192.0.2.10:443>10.0.0.1:443": 4, "tcp:192.0.2.10:443>10.0.0.2:443": 4 });

    const drain = await lbctl(["backend", "drain", "web", "10.0.0.1", "--ttl", "1h", "--json"], { SUDO_USER: "carol" });
    expect(drain.exitCode).toBe(0);
    expect(JSON.parse(drain.stdout)).toMatchObject({ result: "applied", service: "web", backend: "10.0.0.1:80", override: { kind: "drain", weight: 0, by: { sudo_user: "carol" } } });
    // The reply comes after the kernel took the change: the very next read shows it, on both ports.
    const drained = await weights();
    expect(drained["tcp:192.0.2.10:80>10.0.0.1:80"]).toBe(0);
    expect(drained["tcp:192.0.2.10:443>10.0.0.1:443"]).toBe(0);
    expect(drained["tcp:192.0.2.10:80>10.0.0.2:80"]).toBe(4);

    const text = await lbctl(["backend", "weight", "web", "10.0.0.2:80", "--weight", "7"]);
    expect(text.exitCode).toBe(0);
    expect(text.stdout + text.stderr).toContain("Weight 7 set on web 10.0.0.2:80 until lbctl backend enable: 2 destination(s) set to weight 7");
    expect((await weights())["tcp:192.0.2.10:443>10.0.0.2:443"]).toBe(7);

    const list = await lbctl(["backend", "list", "--json"]);
    expect(JSON.parse(list.stdout).backends).toEqual([
      expect.objectContaining({ service: "web", backend: "10.0.0.1:80", weight: 0, configured_weight: 4, health: "disabled", override: expect.objectContaining({ kind: "drain" }) }),
      expect.objectContaining({ service: "web", backend: "10.0.0.2:80", weight: 7, override: expect.objectContaining({ kind: "weight", weight: 7 }) }),
    ]);
    const table = await lbctl(["backend", "list"]);
    expect(table.stdout).toMatch(/web\s+10\.0\.0\.1:80\s+0\s+4\s+disabled\s+\[drained by carol, (59m \d+s|1h) left\]/);
    const status = await lbctl(["status"]);
    expect(status.stdout).toContain("-> 10.0.0.1:80 [drained by");

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('lbctl_backend_override{node="lb-a",service="web",backend="10.0.0.1:80",kind="drain"} 0');
    expect(metrics).toContain('lbctl_backend_override{node="lb-a",service="web",backend="10.0.0.2:80",kind="weight"} 7');
    expect(output).toMatch(/Backend override set .*backend=10\.0\.0\.1:80.*kind=drain.*sudo_user=carol/);

    // Errors name what is wrong, change nothing, and exit non-zero.
    const unknown = await lbctl(["backend", "drain", "web", "10.0.0.9"]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain("web has no backend 10.0.0.9: nothing changed");
    const badTtl = await lbctl(["backend", "drain", "web", "10.0.0.2", "--ttl", "soon"]);
    expect(badTtl.exitCode).toBe(2);
    expect(badTtl.stderr).toContain('--ttl must be a duration such as 90s, 15m, 2h or 1d, got "soon"');

    // A restart: the new daemon reads the overrides before its first plan.
    daemon!.kill("SIGTERM");
    await daemon!.exited;
    await startDaemon(tree);
    expect(output).toContain("Backend override restored from state_dir");
    const restarted = await weights();
    expect(restarted["tcp:192.0.2.10:80>10.0.0.1:80"]).toBe(0);
    expect(restarted["tcp:192.0.2.10:80>10.0.0.2:80"]).toBe(7);

    const enable = await lbctl(["backend", "enable", "web", "10.0.0.1:80"]);
    expect(enable.exitCode).toBe(0);
    expect(enable.stdout + enable.stderr).toContain("Override of web 10.0.0.1:80 removed");
    expect((await weights())["tcp:192.0.2.10:80>10.0.0.1:80"]).toBe(4);
  }, 60_000);

  test("without a daemon, backend commands say that overrides need one", async () => {
    tree = configTree();
    const run = await lbctl(["backend", "drain", "web", "10.0.0.1"]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("overrides are held by the daemon");
  });
});
