/**
 * The demo, inside the lab guest: three backends and a client in their own network namespaces, `lbctl apply
 * --daemon` with a demo config, traffic through the VIP, a backend failure and its recovery, narrated.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { startDaemon, waitFor } from "../support/lbctl-daemon.ts";
import { createLabNetwork, ipvsadm, requireLab, startTcpNameServer, tcpRequest } from "../support/index.ts";
import { lbctlCommandLine } from "../../support/run-lbctl.ts";

const VIP = "10.210.0.1";
const started = performance.now();

function say(text: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(5);
  process.stdout.write(`\n[${seconds}s] ${text}\n`);
}

function show(title: string, text: string): void {
  process.stdout.write(`  $ ${title}\n${text.trimEnd().replace(/^/gm, "    ")}\n`);
}

function lbctl(args: string[]): string {
  const result = Bun.spawnSync([...lbctlCommandLine(), ...args], { env: { ...process.env, NO_COLOR: "1" } });
  return result.stdout.toString() + result.stderr.toString();
}

function traffic(requests: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < requests; i++) {
    let answer: string;
    try {
      answer = tcpRequest(network.client, VIP, 80, { timeoutSeconds: 10 }) || "(empty reply)";
    } catch {
      answer = "(failed)";
    }
    counts.set(answer, (counts.get(answer) ?? 0) + 1);
  }
  return counts;
}

function describeTraffic(counts: Map<string, number>): string {
  return [...counts].map(([who, n]) => `${who}: ${n}`).join(", ");
}

requireLab();
const dir = mkdtempSync(join(tmpdir(), "lbctl-demo-"));
const network = createLabNetwork({ backends: 3 });
let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
try {
  say("A director (this VM, with a real IPVS kernel), three backends and a client, each in its own network namespace.");
  network.addDirectorAddress(VIP);
  const servers = await Promise.all(network.backends.map((b) => startTcpNameServer(b, 80)));
  for (const b of network.backends) process.stdout.write(`  backend ${b.name} at ${b.address}:80 answers with its name\n`);

  const config = join(dir, "config.yaml");
  const socket = join(dir, "lbctl.sock");
  await Bun.write(
    config,
    stringify({
      node: { name: "demo-lb" },
      network: { frontend: { vip: VIP } },
      system: { state_dir: join(dir, "state") },
      daemon: { reconcile_interval_ms: 1000, socket },
      observability: { metrics: { prometheus: { enabled: false } } },
    }),
  );
  await Bun.write(
    join(dir, "config.d/web.yaml"),
    stringify({
      services: [
        {
          name: "web",
          ports: [80],
          scheduler: "rr",
          backends: network.backends.map((b) => ({ address: b.address })),
          health: { enabled: true, type: "tcp", interval_ms: 500, timeout_ms: 300, fail_after: 2, recover_after: 2 },
        },
      ],
    }),
  );
  say(`The config: one TCP service on ${VIP}:80, round-robin over the three backends, TCP health checks every 500 ms.`);
  show("lbctl validate", lbctl(["validate", "--config", config]));

  say("Starting the daemon (lbctl apply --daemon), as systemd would.");
  daemon = await startDaemon(config, socket);
  await waitFor(() => ipvsadm(["-Sn"]).split("\n").filter((l) => l.startsWith("-a")).length === 3, 15_000, "three destinations");
  await waitFor(() => lbctl(["status", "--json", "--config", config]).split('"healthy"').length === 4, 15_000, "three healthy backends");
  show("ipvsadm -Ln   (the kernel's table, read independently of lbctl)", ipvsadm(["-Ln"]));
  show("lbctl status", lbctl(["status", "--config", config]));

  say("Traffic: 9 requests from the client namespace to the VIP.");
  process.stdout.write(`  ${describeTraffic(traffic(9))}\n`);

  const victim = network.backends[1]!;
  say(`Failure: ${victim.name} stops listening.`);
  servers[1]!.stop();
  const failedAt = performance.now();
  await waitFor(() => /-w 0\b/.test(ipvsadm(["-Sn"])), 20_000, "weight 0");
  process.stdout.write(`  after ${((performance.now() - failedAt) / 1000).toFixed(1)} s the daemon has set its weight to 0 (2 failed probes at 500 ms)\n`);
  show("lbctl status", lbctl(["status", "--config", config]));
  say("Traffic again: 9 requests. The failed backend gets none; nothing fails.");
  process.stdout.write(`  ${describeTraffic(traffic(9))}\n`);

  say(`Recovery: ${victim.name} listens again.`);
  await startTcpNameServer(victim, 80);
  await waitFor(() => !/-w 0\b/.test(ipvsadm(["-Sn"])), 20_000, "the weight restored");
  show("lbctl status", lbctl(["status", "--config", config]));
  say("Traffic again: all three backends share it.");
  process.stdout.write(`  ${describeTraffic(traffic(9))}\n`);

  say("Drift: someone runs ipvsadm -C. The daemon repairs the table within one reconcile interval.");
  ipvsadm(["-C"]);
  const clearedAt = performance.now();
  await waitFor(() => ipvsadm(["-Sn"]).split("\n").filter((l) => l.startsWith("-a")).length === 3, 15_000, "the table restored");
  process.stdout.write(`  restored after ${((performance.now() - clearedAt) / 1000).toFixed(1)} s\n`);

  say("Stopping the daemon (SIGTERM): the rules stay, traffic keeps flowing.");
  const stopped = await daemon.stop("SIGTERM");
  daemon = undefined;
  process.stdout.write(`  exit ${stopped.exitCode} after ${(stopped.ms / 1000).toFixed(1)} s; traffic: ${describeTraffic(traffic(3))}\n`);
  say("Done. On a real host: sudo lbctl apply --daemon (or systemctl start lbctl).");
} finally {
  if (daemon) await daemon.stop("SIGKILL");
  network.destroy();
  rmSync(dir, { recursive: true, force: true });
}
