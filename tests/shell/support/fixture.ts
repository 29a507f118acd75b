/** A config tree for shell tests, with its own socket, lock and state folder, and a daemon on the memory kernel. */

import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configTree, type ConfigTree } from "../../support/config-tree.ts";
import { lbctlCommandLine, runLbctl } from "../../support/run-lbctl.ts";
import { spawnMemoryKernelDaemon } from "../../support/memory-kernel-daemon.ts";

export const WEB = "# the web tier (this comment must survive commits)\nservices:\n  - name: web\n    ports: [80]\n    backends: [{ address: 10.0.0.1 }]\n";
export const DNS = "services:\n  - name: dns\n    protocol: udp\n    ports: [53]\n    backends: [{ address: 10.0.0.9 }]\n";

export interface ShellTree extends ConfigTree {
  socket: string;
  lock: string;
  state: string;
}

export function shellTree(extraMain = ""): ShellTree {
  const tree = configTree({ main: "", services: { "web.yaml": WEB, "dns.yaml": DNS } });
  const socket = join(tree.dir, "run", "lbctl.sock");
  const state = join(tree.dir, "state");
  mkdirSync(join(tree.dir, "run"));
  tree.write(
    "config.yaml",
    `node: { name: lb-a }
network: { frontend: { vip: 192.0.2.10 } }
observability: { metrics: { prometheus: { enabled: false } } }
system: { state_dir: ${state} }
daemon: { socket: ${socket}, reconcile_interval_ms: 1000 }
${extraMain}`,
  );
  return Object.assign(tree, { socket, lock: join(tree.dir, "run", "config.lock"), state });
}

/** A command named `lbctl` on PATH for shells (bash completion calls it by name): the binary or the sources. */
export function lbctlOnPath(dir: string): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const quoted = lbctlCommandLine().map((w) => `'${w}'`).join(" ");
  writeFileSync(join(bin, "lbctl"), `#!/bin/sh\nexec ${quoted} "$@"\n`);
  chmodSync(join(bin, "lbctl"), 0o755);
  return bin;
}

export class Daemon {
  private proc: ReturnType<typeof Bun.spawn> | undefined;
  output = "";

  constructor(private readonly tree: ShellTree) {}

  async start(): Promise<void> {
    this.proc = spawnMemoryKernelDaemon(this.tree.main, (text) => (this.output += text));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if ((await this.destinations()) !== undefined) return;
      await Bun.sleep(100);
    }
    throw new Error(`the daemon did not answer:\n${this.output}`);
  }

  /** `service destination weight` of every destination, from `lbctl status --json` through the daemon. */
  async destinations(): Promise<string[] | undefined> {
    const run = await runLbctl(["status", "--json", "--config", this.tree.main]);
    if (run.exitCode !== 0) return undefined;
    const view = JSON.parse(run.stdout) as { daemon: boolean; services: { service: string; destinations: { destination: string; weight: number }[] }[] };
    if (!view.daemon) return undefined;
    return view.services.flatMap((s) => s.destinations.map((d) => `${s.service} ${d.destination} ${d.weight}`)).sort();
  }

  async stop(): Promise<void> {
    this.proc?.kill("SIGTERM");
    await this.proc?.exited;
    this.proc = undefined;
  }
}
