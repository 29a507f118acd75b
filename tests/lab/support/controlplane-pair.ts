/**
 * Two director namespaces joined by a veth pair, each with its own IPVS table and its own lbctl daemon (the real
 * binary): a control-plane primary and a secondary on certificates from `lbctl setup certs`. For the lab test of
 * replication and the lab part of bench P6. Everything lives under /run (the guest's tmpfs) and goes on `destroy`.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { runLbctl } from "../../support/run-lbctl.ts";
import { run } from "./exec.ts";
import { IpvsNamespace } from "./ipvs-namespace.ts";
import { type RunningDaemon, startDaemon } from "./lbctl-daemon.ts";

export const PAIR_VIP = "10.212.0.100";
export const PAIR_PRIMARY_IP = "10.212.0.11";
const PORT = 8443;

export type Director = 1 | 2;

export class ReplicatedPair {
  readonly namespaces = new Map<Director, IpvsNamespace>();
  readonly daemons = new Map<Director, RunningDaemon>();

  private constructor(readonly dir: string) {}

  /** Director 1 runs the primary, director 2 the secondary; `services` are the primary's first service files. */
  static async start(services: Record<string, string>, options: { syncIntervalSeconds?: number; reconcileIntervalMs?: number } = {}): Promise<ReplicatedPair> {
    const pair = new ReplicatedPair(mkdtempSync("/run/lbctl-cp-"));
    try {
      await pair.#start(services, options.syncIntervalSeconds ?? 1, options.reconcileIntervalMs ?? 500);
    } catch (error) {
      await pair.destroy();
      throw error;
    }
    return pair;
  }

  folder(n: Director): string {
    return join(this.dir, `d${n}`);
  }

  main(n: Director): string {
    return join(this.folder(n), "config.yaml");
  }

  director(n: Director): IpvsNamespace {
    const namespace = this.namespaces.get(n);
    if (!namespace) throw new Error(`director ${n} has no namespace`);
    return namespace;
  }

  daemon(n: Director): RunningDaemon {
    const daemon = this.daemons.get(n);
    if (!daemon) throw new Error(`director ${n} has no daemon`);
    return daemon;
  }

  /** Writes a service file of director n (the primary's are what replicates). */
  writeService(n: Director, name: string, text: string): void {
    writeFileSync(join(this.folder(n), "config.d", name), text);
  }

  async destroy(): Promise<void> {
    for (const daemon of this.daemons.values()) if (daemon.process.exitCode === null) await daemon.stop("SIGKILL");
    for (const namespace of this.namespaces.values()) namespace.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #start(services: Record<string, string>, syncIntervalSeconds: number, reconcileIntervalMs: number): Promise<void> {
    const certs = join(this.dir, "certs");
    const pki = await runLbctl(["setup", "certs", "--output-dir", certs, "--primary", "lb-a", "--primary-address", PAIR_PRIMARY_IP, "--secondary", "lb-b"]);
    if (pki.exitCode !== 0) throw new Error(`lbctl setup certs: ${pki.stderr}`);
    for (const n of [1, 2] as const) this.namespaces.set(n, IpvsNamespace.create());
    // The TLS connection crosses from one namespace to the other over this pair.
    run(["ip", "-n", this.director(1).name, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", this.director(2).name]);
    for (const n of [1, 2] as const) {
      const primary = n === 1;
      this.director(n).exec(["ip", "addr", "add", `10.212.0.1${n}/24`, "dev", "eth0"]);
      this.director(n).exec(["ip", "link", "set", "eth0", "up"]);
      mkdirSync(join(this.folder(n), "config.d"), { recursive: true });
      const tls = primary ? { cert: "server.crt", key: "server.key" } : { cert: "client-lb-b.crt", key: "client-lb-b.key" };
      writeFileSync(
        this.main(n),
        stringify({
          node: { name: primary ? "lb-a" : "lb-b", role: primary ? "primary" : "secondary" },
          network: { frontend: { interface: "eth0", vip: PAIR_VIP } },
          system: { state_dir: join(this.folder(n), "state") },
          daemon: { reconcile_interval_ms: reconcileIntervalMs, socket: join(this.folder(n), "lbctl.sock") },
          observability: { metrics: { prometheus: { enabled: false } } },
          control_plane: {
            enabled: true,
            mode: primary ? "primary" : "secondary",
            ...(primary ? { listen_address: `${PAIR_PRIMARY_IP}:${PORT}` } : { primary_address: `${PAIR_PRIMARY_IP}:${PORT}` }),
            sync_interval_seconds: syncIntervalSeconds,
            tls: { cert: join(certs, tls.cert), key: join(certs, tls.key), ca: join(certs, "ca.crt") },
          },
        }),
      );
    }
    for (const [name, text] of Object.entries(services)) this.writeService(1, name, text);
    for (const n of [1, 2] as const) {
      this.daemons.set(n, await startDaemon(this.main(n), join(this.folder(n), "lbctl.sock"), { namespace: this.director(n), timeoutMs: 30_000 }));
    }
  }
}
