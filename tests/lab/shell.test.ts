/**
 * A commit in `lbctl shell` reaches the real kernel through the daemon: a script session adds a backend and a UDP
 * service, and `ipvsadm -Sn` (the independent oracle) shows them. (A commit the daemon refuses is tested on the host,
 * tests/shell/commit.test.ts: it never reaches the kernel.) Daemon, shell and ipvsadm run in a namespace of their own.
 */

import { expect, test } from "bun:test";
import { daemonLab, labNamespace, startLabDaemon, writeDaemonConfig } from "./support/daemon-lab.ts";
import { waitFor } from "./support/lbctl-daemon.ts";

const VIP = "10.204.0.1";
const lab = daemonLab({ ownNamespace: true });

async function shell(script: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(labNamespace(lab).lbctlCommand(["shell", "--config", lab.tree!.main]), {
    env: { ...process.env, NO_COLOR: "1" },
    stdin: new TextEncoder().encode(script),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

test("commit in lbctl shell: the daemon programs the kernel", async () => {
  writeDaemonConfig(
    lab,
    {
      node: { name: "lab-a" },
      network: { frontend: { vip: VIP } },
      daemon: { reconcile_interval_ms: 500 },
      observability: { metrics: { prometheus: { enabled: false } } },
    },
    [{ name: "web", ports: [80], scheduler: "rr", backends: [{ address: "10.204.1.1" }] }],
    "config.d/web.yaml",
  );
  lab.daemon = await startLabDaemon(lab);
  const save = () => labNamespace(lab).ipvsadmSave();
  await waitFor(() => save().some((l) => l.startsWith(`-a -t ${VIP}:80 -r 10.204.1.1:80 `)), 30_000, "the daemon to program web");

  const committed = await shell("configure\nservice web\nbackend 10.204.1.2 weight 3\nexit\nservice dns\nprotocol udp\nports 53\nbackend 10.204.1.3\nexit\ncommit\nexit\nexit\n");
  expect(committed.stderr).toBe("");
  expect(committed.exitCode).toBe(0);
  expect(committed.stdout).toContain("Committed: the daemon runs the new config (3 kernel changes).");
  const after = save();
  // The daemon's reload, not a later reconcile: the table is complete the moment the commit returns.
  expect(after).toContain(`-a -t ${VIP}:80 -r 10.204.1.2:80 -m -w 3`);
  expect(after).toContain(`-A -u ${VIP}:53 -s wlc`);
  expect(after).toContain(`-a -u ${VIP}:53 -r 10.204.1.3:53 -m -w 1`);
}, 120_000);
