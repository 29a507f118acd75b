/**
 * Quorum and the sorry server against a real kernel with real traffic: when every backend fails, the sorry server
 * becomes a destination (`ipvsadm -Sn`) and clients reach it; when one backend recovers, the sorry server is
 * removed and new connections go to the backend again. One daemon in a namespace of its own, short check timers.
 */

import { describe, expect, test } from "bun:test";
import { daemonLab, labNamespace, startLabDaemon, writeDaemonConfig } from "./support/daemon-lab.ts";
import { waitFor } from "./support/lbctl-daemon.ts";
import { createLabNetwork, startTcpNameServer, tcpRequest } from "./support/index.ts";

const VIP = "10.205.0.1";
const lab = daemonLab({ ownNamespace: true });
const ipvsadmSave = () => labNamespace(lab).ipvsadmSave();
const answers = (count: number) => Array.from({ length: count }, () => tcpRequest(lab.network!.client, VIP, 80, { timeoutSeconds: 10 }));

describe("quorum and sorry server against the kernel", () => {
  test("all backends fail → clients reach the sorry server; one recovers → traffic returns to it, the sorry server is removed", async () => {
    lab.network = createLabNetwork({ backends: 3, director: labNamespace(lab) });
    lab.network.addDirectorAddress(VIP);
    const [first, second, sorry] = lab.network.backends;
    const servers = await Promise.all(lab.network.backends.map((b) => startTcpNameServer(b, 80)));
    writeDaemonConfig(
      lab,
      {
        node: { name: "lab-a" },
        network: { frontend: { vip: VIP } },
        daemon: { reconcile_interval_ms: 500 },
        observability: { metrics: { prometheus: { enabled: false } } },
      },
      [
        {
          name: "web",
          ports: [80],
          scheduler: "rr",
          backends: [first!, second!].map((b) => ({ address: b.address, weight: 1 })),
          health: { enabled: true, type: "tcp", interval_ms: 300, timeout_ms: 200, fail_after: 2, recover_after: 2 },
          sorry_server: sorry!.address,
        },
      ],
    );
    lab.daemon = await startLabDaemon(lab);
    const sorryRule = `-a -t ${VIP}:80 -r ${sorry!.address}:80 -m -w 1`;
    await waitFor(() => ipvsadmSave().filter((l) => l.startsWith(`-a -t ${VIP}:80 `)).length === 2, 10_000, "the two backends programmed");
    expect(ipvsadmSave()).not.toContain(sorryRule);
    expect(new Set(answers(2))).toEqual(new Set([first!.name, second!.name]));

    servers[0]!.stop();
    servers[1]!.stop();
    await waitFor(() => /Quorum lost/.test(lab.daemon!.log()), 20_000, "the quorum lost in the log");
    expect(ipvsadmSave()).toContain(sorryRule);
    expect(ipvsadmSave()).toContain(`-a -t ${VIP}:80 -r ${first!.address}:80 -m -w 0`);
    expect(answers(2)).toEqual([sorry!.name, sorry!.name]);

    await startTcpNameServer(first!, 80);
    await waitFor(() => /Quorum regained/.test(lab.daemon!.log()), 20_000, "the quorum regained in the log");
    const rules = ipvsadmSave();
    expect(rules.some((l) => l.includes(`-r ${sorry!.address}:80`))).toBe(false);
    expect(rules).toContain(`-a -t ${VIP}:80 -r ${first!.address}:80 -m -w 1`);
    expect(rules).toContain(`-a -t ${VIP}:80 -r ${second!.address}:80 -m -w 0`);
    expect(answers(2)).toEqual([first!.name, first!.name]);
    expect(lab.daemon.log()).toMatch(/audit=quorum_lost.*service=web.*live_weight=0.*sorry_server=/);
    // The budget in a quiet guest is far less; the margin is for a loaded, emulated one.
  }, 180_000);
});
