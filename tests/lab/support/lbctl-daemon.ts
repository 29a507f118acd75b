/** A real `lbctl daemon` process for lab tests: started, watched through its log and socket, stopped by signal. */

import type { Subprocess } from "bun";
import { daemonAnswers } from "../../../src/daemon/control-client.ts";
import { lbctlCommandLine } from "../../support/run-lbctl.ts";

export interface RunningDaemon {
  readonly process: Subprocess;
  /** Everything the daemon logged so far. */
  log(): string;
  /** Sends a signal and waits for the exit; resolves with the exit code and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ exitCode: number | null; ms: number }>;
  signal(signal: NodeJS.Signals): void;
}

export interface StartDaemonOptions {
  /** How long to wait for the socket to answer; default 60 s. */
  timeoutMs?: number;
  /** Run the daemon inside this network namespace (its IPVS table, its VIPs); default the guest's root namespace. */
  namespace?: { command(argv: readonly string[]): string[] };
}

export async function startDaemon(configFile: string, socket: string, options: StartDaemonOptions = {}): Promise<RunningDaemon> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const argv = [...lbctlCommandLine(), "daemon", "--config", configFile];
  // `ip netns exec` execs the command in place: the child is the daemon itself, so signals reach it directly.
  const child = Bun.spawn(options.namespace ? options.namespace.command(argv) : argv, {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  void pump(child.stdout);
  void pump(child.stderr);
  const daemon: RunningDaemon = {
    process: child,
    log: () => text,
    signal: (signal) => child.kill(signal),
    async stop(signal = "SIGTERM") {
      const started = performance.now();
      child.kill(signal);
      const exitCode = await child.exited;
      return { exitCode, ms: performance.now() - started };
    },
  };
  await waitFor(async () => child.exitCode !== null || (await daemonAnswers(socket)), timeoutMs, "the daemon to answer on its socket");
  if (child.exitCode !== null) throw new Error(`lbctl daemon exited ${child.exitCode}:\n${text}`);
  return daemon;
}

/** Polls `condition` every 100 ms until it holds; throws naming what it waited for. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await condition()) return performance.now() - started;
    await Bun.sleep(100);
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}
