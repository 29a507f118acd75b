/**
 * Runtime overrides against a real kernel with real traffic: `lbctl backend drain` puts weight 0 in the kernel
 * (`ipvsadm -Sn`, the independent oracle) before the command returns and no new connection reaches the backend;
 * `weight` sets that weight; a daemon restart keeps the override; `enable` brings the backend back. One daemon
 * pair in a namespace of its own, short timers, no health checks (their interplay is tests/daemon/overrides.test.ts).
 */

import { describe, expect, test } from "bun:test";
import { daemonLab, labNamespace, startLabDaemon, writeDaemonConfig } from "./support/daemon-lab.ts";
import { waitFor } from "./support/lbctl-daemon.ts";
import { createLabNetwork, startTcpNameServer, tcpRequest } from "./support/index.ts";

const VIP = "10.203.0.1";
const RECONCILE_MS = 300;
// The budget in a quiet guest is far less (about 30 s); the margin is for a loaded, emulated one.
const T = 180_000;

const lab = daemonLab({ ownNamespace: true });
const ipvsadmSave = () => labNamespace(lab).ipvsadmSave();
const lbctl = (args: string[]) => labNamespace(lab).lbctl([...args, "--config", lab.tree!.main]);

function weightOf(address: string): number | undefined {
  const line = ipvsadmSave().find((l) => l.startsWith(`-a -t ${VIP}:80 -r ${address}:80 `));
  return line ? Number(/-w (\d+)/.exec(line)?.[1]) : undefined;
}

/** Who answers `count` new connections through the VIP. */
function answers(count: number): string[] {
  return Array.from({ length: count }, () => tcpRequest(lab.network!.client, VIP, 80, { timeoutSeconds: 10 }));
}

describe("lbctl backend against the kernel", () => {
  test("drain → weight 0 and no new connections; weight → that weight; a restart keeps it; enable → back", async () => {
    lab.network = createLabNetwork({ backends: 2, director: labNamespace(lab) });
    lab.network.addDirectorAddress(VIP);
    const [first, second] = lab.network.backends;
    await Promise.all(lab.network.backends.map((b) => startTcpNameServer(b, 80)));
    writeDaemonConfig(
      lab,
      {
        node: { name: "lab-a" },
        network: { frontend: { vip: VIP } },
        daemon: { reconcile_interval_ms: RECONCILE_MS },
        // debug: the periodic reconcile's line is the signal that the restarted daemon has decided.
        observability: { logging: { console: { level: "debug" } }, metrics: { prometheus: { enabled: false } } },
      },
      [{ name: "web", ports: [80], scheduler: "rr", backends: lab.network.backends.map((b) => ({ address: b.address, weight: 2 })) }],
    );
    lab.daemon = await startLabDaemon(lab);
    await waitFor(() => weightOf(first!.address) === 2 && weightOf(second!.address) === 2, 10_000, "both backends programmed");
    // rr: two new connections reach both backends.
    expect(new Set(answers(2))).toEqual(new Set([first!.name, second!.name]));

    const drain = await lbctl(["backend", "drain", "web", first!.address, "--json"]);
    expect({ exit: drain.exitCode, stderr: drain.stderr }).toEqual({ exit: 0, stderr: "" });
    // No wait: the command returns once the kernel has the weight.
    expect(ipvsadmSave()).toContain(`-a -t ${VIP}:80 -r ${first!.address}:80 -m -w 0`);
    expect(weightOf(second!.address)).toBe(2);
    expect(answers(4)).toEqual([second!.name, second!.name, second!.name, second!.name]);

    const weight = await lbctl(["backend", "weight", "web", `${second!.address}:80`, "--weight", "5"]);
    expect(weight.exitCode).toBe(0);
    expect(weightOf(second!.address)).toBe(5);

    const restarted = await lab.daemon.stop("SIGTERM");
    expect(restarted.exitCode).toBe(0);
    lab.daemon = await startLabDaemon(lab);
    await waitFor(() => /Backend override restored/.test(lab.daemon!.log()), 10_000, "the overrides restored");
    // A periodic reconcile of the new daemon has run: what the kernel holds now is its decision.
    const since = lab.daemon.log().length;
    await waitFor(() => /Reconciled.*trigger=interval/.test(lab.daemon!.log().slice(since)), RECONCILE_MS + 10_000, "a periodic reconcile");
    expect(weightOf(first!.address)).toBe(0);
    expect(weightOf(second!.address)).toBe(5);
    const list = JSON.parse((await lbctl(["backend", "list", "--json"])).stdout);
    expect(list.backends.map((b: any) => [b.backend, b.weight, b.override?.kind ?? null])).toEqual([
      [`${first!.address}:80`, 0, "drain"],
      [`${second!.address}:80`, 5, "weight"],
    ]);

    expect((await lbctl(["backend", "enable", "web", first!.address])).exitCode).toBe(0);
    expect(weightOf(first!.address)).toBe(2);
    // Weights 2 and 5 under rr: both get new connections again.
    expect(new Set(answers(3))).toEqual(new Set([first!.name, second!.name]));
  }, T);
});
