/**
 * Graceful drain and snapshots against a real kernel, each test in a network namespace of its own: a long-lived TCP
 * connection to a removed backend keeps working while new connections go elsewhere, and its destination leaves the
 * kernel once that connection closes (the daemon); a bad apply is undone by `lbctl snapshot restore` (one-shot),
 * `ipvsadm -Sn` being the oracle throughout.
 */

import { describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { daemonLab, labNamespace, startLabDaemon, writeDaemonConfig } from "./support/daemon-lab.ts";
import { waitFor } from "./support/lbctl-daemon.ts";
import { createLabNetwork, type LabNamespace, tcpRequest } from "./support/index.ts";

const VIP = "10.216.0.1";
const T = 120_000;

const lab = daemonLab({ ownNamespace: true });
const save = () => labNamespace(lab).ipvsadmSave();
const lbctl = (args: string[]) => labNamespace(lab).lbctl([...args, "--config", lab.tree!.main]);

const main = (daemon: Record<string, unknown> = {}) => ({
  node: { name: "lab-drain" },
  network: { frontend: { vip: VIP } },
  daemon: { reconcile_interval_ms: 300, ...daemon },
  observability: { logging: { console: { level: "debug" } }, metrics: { prometheus: { enabled: false } } },
});

/** A server that says its name on every connection, then echoes what it gets until the client closes. */
async function startNameEchoServer(namespace: LabNamespace): Promise<Subprocess> {
  const child = Bun.spawn(["ip", "netns", "exec", namespace.name, "socat", "-t", "20", "TCP-LISTEN:80,fork,reuseaddr", `SYSTEM:echo ${namespace.name};cat`], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  await waitFor(() => Bun.spawnSync(["ss", "-N", namespace.name, "-Hltn", "sport = :80"]).stdout.toString().trim() !== "", 15_000, `a server in ${namespace.name}`);
  return child;
}

/** A client connection through the VIP that stays open: lines in, lines out. */
class LongConnection {
  readonly #process: Subprocess<"pipe", "pipe", "ignore">;
  #text = "";

  constructor(client: LabNamespace) {
    const child = Bun.spawn(["ip", "netns", "exec", client.name, "socat", "-", `TCP:${VIP}:80`], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    this.#process = child;
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stdout) this.#text += decoder.decode(chunk, { stream: true });
    })();
  }

  /** Everything received so far, line by line. */
  lines(): string[] {
    return this.#text.split("\n").filter(Boolean);
  }

  async exchange(line: string): Promise<void> {
    this.#process.stdin.write(`${line}\n`);
    this.#process.stdin.flush();
    await waitFor(() => this.lines().includes(line), 15_000, `the echo of ${line} on the long-lived connection`);
  }

  /** Closes our side; the server's cat sees EOF and closes its side. */
  async close(): Promise<void> {
    this.#process.stdin.end();
    await this.#process.exited;
  }
}

describe("graceful drain (daemon)", () => {
  test("a removed backend keeps its open connection at weight 0, gets no new one, and leaves the kernel once it closes", async () => {
    lab.network = createLabNetwork({ backends: 2, director: labNamespace(lab) });
    lab.network.addDirectorAddress(VIP);
    const [kept, removed] = lab.network.backends;
    await Promise.all([startNameEchoServer(kept!), startNameEchoServer(removed!)]);
    const service = (backends: LabNamespace[]) => [{ name: "web", ports: [80], scheduler: "rr", backends: backends.map((b) => ({ address: b.address })) }];
    writeDaemonConfig(lab, main({ drain: { timeout_seconds: 60 } }), service([removed!]));
    lab.daemon = await startLabDaemon(lab);
    await waitFor(() => save().includes(`-a -t ${VIP}:80 -r ${removed!.address}:80 -m -w 1`), 15_000, "the first backend programmed");

    // The only backend: the long-lived connection lands on it.
    const connection = new LongConnection(lab.network.client);
    await waitFor(() => connection.lines().length > 0, 15_000, "the server's greeting");
    expect(connection.lines()[0]).toBe(removed!.name);

    writeDaemonConfig(lab, main({ drain: { timeout_seconds: 60 } }), service([kept!]));
    const reload = await lbctl(["apply", "--json"]);
    expect(reload.exitCode).toBe(0);
    const answer = JSON.parse(reload.stdout);
    expect(answer).toMatchObject({ daemon: true, applied: true, draining: [{ service: `tcp:${VIP}:80`, destination: `${removed!.address}:80`, connections: 1 }] });
    expect(answer.changes).toContainEqual(expect.objectContaining({ op: "update-destination", destination: `${removed!.address}:80`, weight: 0, reason: "drain" }));
    expect(save()).toContain(`-a -t ${VIP}:80 -r ${removed!.address}:80 -m -w 0`);
    expect(save()).toContain(`-a -t ${VIP}:80 -r ${kept!.address}:80 -m -w 1`);

    // The open connection works through the removal; every new connection goes to the backend that stays.
    await connection.exchange("still-there");
    for (let i = 0; i < 2; i++) expect(tcpRequest(lab.network.client, VIP, 80)).toBe(kept!.name);
    const status = JSON.parse((await lbctl(["status", "--json"])).stdout);
    const row = status.services[0].destinations.find((d: { destination: string }) => d.destination === `${removed!.address}:80`);
    expect(row).toMatchObject({ weight: 0, backend: null, draining: { connections: 1 } });
    // Periodic reconciles ran since (each one checks the drain): the open connection still holds it.
    const logAt = lab.daemon.log().length;
    await waitFor(() => (lab.daemon!.log().slice(logAt).match(/trigger=interval/g) ?? []).length >= 3, 20_000, "three periodic reconciles");
    expect(save()).toContain(`-a -t ${VIP}:80 -r ${removed!.address}:80 -m -w 0`);
    await connection.exchange("and-again");

    await connection.close();
    // The daemon's record of the deletion is the signal (its log is written after the kernel acknowledged it).
    await waitFor(() => /audit=drain_ended .*reason=drained/.test(lab.daemon!.log()), 20_000, "the drain's end in the log");
    expect(save()).toEqual([`-A -t ${VIP}:80 -s rr`, `-a -t ${VIP}:80 -r ${kept!.address}:80 -m -w 1`]);
    expect(lab.daemon.log()).toMatch(new RegExp(`audit=destination_deleted .*destination=${removed!.address}:80 .*reason=drain`));
  }, T);
});

describe("snapshots (one-shot)", () => {
  test("a bad apply is undone by snapshot restore, within the change limits and with a dry run first", async () => {
    const web = { name: "web", ports: [80, 443], scheduler: "wrr", backends: [{ address: "10.216.1.1", weight: 3 }, { address: "10.216.1.2" }] };
    const dns = { name: "dns", protocol: "udp", ports: [53], backends: [{ address: "10.216.1.9" }] };
    writeDaemonConfig(lab, main(), [web, dns]);
    expect((await lbctl(["apply"])).exitCode).toBe(0);
    const good = save();
    const saved = await lbctl(["snapshot", "save", "--json"]);
    expect(saved.exitCode).toBe(0);
    const { id } = JSON.parse(saved.stdout);
    expect(JSON.parse(saved.stdout)).toMatchObject({ services: 3, destinations: 5 });

    // The bad change: dns gone, a weight changed, a stray port added. Its apply saves a snapshot first.
    writeDaemonConfig(lab, main({ change_limits: { max_services_deleted: 0 } }), [{ ...web, ports: [80, 443, 8080], backends: [{ address: "10.216.1.1", weight: 9 }] }]);
    const bad = await lbctl(["apply", "--force", "--json"]);
    expect(bad.exitCode).toBe(0);
    expect(JSON.parse(bad.stdout).snapshot).toMatch(/-apply$/);
    expect(save()).not.toEqual(good);
    const broken = save();
    const list = JSON.parse((await lbctl(["snapshot", "list", "--json"])).stdout).snapshots.map((s: { id: string; reason: string }) => [s.id, s.reason]);
    expect(list).toEqual([[id, "manual"], [JSON.parse(bad.stdout).snapshot, "apply"]]);

    const dry = await lbctl(["snapshot", "restore", id, "--dry-run", "--json"]);
    expect(dry.exitCode).toBe(3); // restoring deletes the stray service; the config allows no service deletion
    expect(JSON.parse(dry.stdout)).toMatchObject({ applied: false, limit: { name: "max_services_deleted", planned: 1 } });
    expect(save()).toEqual(broken);
    const restored = await lbctl(["snapshot", "restore", id, "--force", "--json"]);
    expect(restored.exitCode).toBe(0);
    expect(save()).toEqual(good);
    // The restore saved the table it replaced first: it can be undone too.
    expect(JSON.parse(restored.stdout)).toMatchObject({ applied: true, snapshot: expect.stringMatching(/-restore$/) });
  }, T);
});
