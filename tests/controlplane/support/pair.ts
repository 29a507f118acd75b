/**
 * Daemons for host tests of the control plane: real lbctl processes on 127.0.0.1 with certificates from
 * `lbctl setup certs`, each in its own config tree, on the test-only memory kernel (LBCTL_TEST_MEMORY_KERNEL=1).
 */

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLbctl } from "../../support/run-lbctl.ts";
import { spawnMemoryKernelDaemonToFile } from "../../support/memory-kernel-daemon.ts";

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export async function makePki(dir: string, secondaries: string[]): Promise<void> {
  const run = await runLbctl(["setup", "certs", "--output-dir", dir, "--primary", "lb-a", "--primary-address", "127.0.0.1", ...secondaries.flatMap((name) => ["--secondary", name])]);
  if (run.exitCode !== 0) throw new Error(`setup certs failed: ${run.stderr}`);
}

export interface NodeOptions {
  name: string;
  role: "primary" | "secondary";
  port: number;
  certs: string;
  cert: string;
  key: string;
  extra?: string;
  /** More keys of control_plane.tls, e.g. `allowed_clients: [lb-b]`. */
  tlsExtra?: string;
  /** Serve metrics on 127.0.0.1:PORT (default: metrics off). */
  metricsPort?: number;
  /** Console log as JSON lines (default text). */
  jsonLog?: boolean;
}

export class Node {
  readonly dir: string;
  proc: ReturnType<typeof Bun.spawn> | undefined;
  /** Where the daemon's output goes (a file, not a pipe the test process must keep reading). */
  readonly #log: string;
  /** How much of the log to skip: what was there when `output` was last cleared. */
  #from = 0;

  constructor(readonly options: NodeOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `lbctl-cp-${options.name}-`));
    // Beside the node's folder, not in it: the primary watches its config folder, and its own log would stir it.
    this.#log = `${this.dir}.log`;
    mkdirSync(join(this.dir, "config.d"));
    mkdirSync(join(this.dir, "state"));
    const { role, port, certs } = options;
    const address = role === "primary" ? `listen_address: "127.0.0.1:${port}"` : `primary_address: "127.0.0.1:${port}"`;
    writeFileSync(
      this.main,
      `node: { name: ${options.name}, role: ${role} }
network: { frontend: { vip: 192.0.2.10 } }
observability:
  logging: { console: { format: ${options.jsonLog ? "json" : "text"} } }
  metrics: { prometheus: ${options.metricsPort ? `{ enabled: true, bind: 127.0.0.1, port: ${options.metricsPort} }` : "{ enabled: false }"} }
system: { state_dir: ${join(this.dir, "state")} }
daemon: { socket: ${join(this.dir, "lbctl.sock")}, reconcile_interval_ms: 1000 }
control_plane:
  enabled: true
  mode: ${role}
  ${address}
  sync_interval_seconds: 2
  tls: { cert: ${join(certs, options.cert)}, key: ${join(certs, options.key)}, ca: ${join(certs, "ca.crt")}${options.tlsExtra ? `, ${options.tlsExtra}` : ""} }
${options.extra ?? ""}`,
    );
  }

  /** Everything the daemon printed since it started (or since `output` was set to ""). */
  get output(): string {
    try {
      return readFileSync(this.#log, "utf8").slice(this.#from);
    } catch {
      return "";
    }
  }

  set output(_cleared: "") {
    this.#from += this.output.length;
  }

  get main(): string {
    return join(this.dir, "config.yaml");
  }

  write(name: string, text: string): void {
    writeFileSync(join(this.dir, "config.d", name), text);
  }

  /** Service files as the node holds them now: name → text. */
  files(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const entry of readdirSync(join(this.dir, "config.d"), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isFile()) out[entry.name] = readFileSync(join(this.dir, "config.d", entry.name), "utf8");
    }
    return out;
  }

  start(): void {
    this.output = "";
    this.proc = spawnMemoryKernelDaemonToFile(this.main, this.#log);
  }

  async stop(): Promise<void> {
    if (!this.proc) return;
    this.proc.kill("SIGTERM");
    await this.proc.exited;
    this.proc = undefined;
  }

  async status(): Promise<
    | {
        services: { name: string }[];
        control_plane?: { mode: string; digest: string | null; peers: { peer: string; connected: boolean; last_sync: string | null; digest: string | null }[] };
      }
    | undefined
  > {
    const run = await runLbctl(["status", "--json", "--config", this.main]);
    if (run.exitCode !== 0) return undefined;
    return JSON.parse(run.stdout);
  }

  /** The metrics exposition (needs `metricsPort`). */
  async metrics(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.options.metricsPort}/metrics`);
    return response.text();
  }

  /** The audit records logged so far (needs `jsonLog`). */
  audits(event: string): Record<string, unknown>[] {
    return this.output
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((record) => record.audit_event === event);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.#log, { force: true });
  }
}

export function service(name: string, port: number): string {
  return `services:\n  - name: ${name}\n    ports: [${port}]\n    backends: [{ address: 10.0.0.1 }]\n`;
}

/** Polls `check` until it returns true (positive signal), failing with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for: ${what}`);
}
