/**
 * Running lbctl as `lbctl ... | slow-reader` runs in a shell: the reader takes the first byte as soon as lbctl
 * writes it, then pauses before reading on, so the pipe (64 KiB) fills and lbctl must wait for it to drain. A
 * program that exits with output still queued loses all but the first 64 KiB here, which is what a script piping
 * into jq saw. The pause starts at the first byte, not at start-up, so a slow machine (the emulated lab) cannot
 * spend it before lbctl writes anything.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { lbctlCommandLine } from "../../support/run-lbctl.ts";

export interface PipedRun {
  exitCode: number;
  /** What the reader received on the piped stream. */
  text: string;
}

/** Pause after the first byte; long enough for lbctl to have exited were it not waiting for the reader. */
const READER_PAUSE_S = 1.5;

/**
 * Runs lbctl with `stream` piped into a reader that starts late; the other stream is discarded. `command` is how
 * lbctl is started (a lab test's namespace prefixes `ip netns exec`).
 */
export async function runThroughSlowReader(
  args: string[],
  stream: "stdout" | "stderr",
  env: Record<string, string> = {},
  command: readonly string[] = lbctlCommandLine(),
): Promise<PipedRun> {
  const redirect = stream === "stdout" ? "2>/dev/null" : "2>&1 >/dev/null";
  // dd reads exactly one byte (head -c 1 may read, and drop, a whole block).
  const script = `"$@" ${redirect} | { dd bs=1 count=1 status=none; sleep ${READER_PAUSE_S}; cat; }; exit "\${PIPESTATUS[0]}"`;
  const { LBCTL_CONFIG: _ignored, ...inherited } = process.env;
  const proc = Bun.spawn(["bash", "-c", script, "bash", ...command, ...args], {
    env: { ...inherited, NO_COLOR: "1", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  const [text, exitCode] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { exitCode, text };
}

/** `count` service files of one service each (one port, one backend) under dir/config.d; returns the main file. */
export function writeManyServices(dir: string, count: number, service: (i: number) => string = validService): string {
  mkdirSync(join(dir, "config.d"), { recursive: true });
  for (let i = 0; i < count; i++) writeFileSync(join(dir, "config.d", `svc-${String(i).padStart(5, "0")}.yaml`), service(i));
  return join(dir, "config.yaml");
}

export function validService(i: number): string {
  return `services:\n  - name: svc-${i}\n    ports: [${1000 + i}]\n    backends:\n      - address: 10.0.${Math.floor(i / 250)}.${(i % 250) + 1}\n`;
}
