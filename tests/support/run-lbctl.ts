/** Runs lbctl as a user would: the built binary when LBCTL_BIN names it, else the sources through bun. */

import { join } from "node:path";

const root = join(import.meta.dir, "../..");

export interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function lbctlCommandLine(): string[] {
  const binary = process.env.LBCTL_BIN;
  return binary ? [binary] : [process.execPath, join(root, "src/cli/main.ts")];
}

export async function runLbctl(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Run> {
  const { LBCTL_CONFIG: _ignored, ...inherited } = process.env;
  const proc = Bun.spawn([...lbctlCommandLine(), ...args], {
    env: { ...inherited, NO_COLOR: "1", ...env },
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}
