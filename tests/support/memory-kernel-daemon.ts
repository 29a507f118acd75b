/**
 * `lbctl apply --daemon` on the test-only memory kernel (LBCTL_TEST_MEMORY_KERNEL=1, src/controlplane/test-kernel.ts):
 * the daemon's behaviour without IPVS, for host tests of what lies around the kernel (replication, the Kubernetes
 * source, the shell). Everything it prints goes to `onOutput`, stdout and stderr alike.
 */

import { closeSync, openSync } from "node:fs";
import { lbctlCommandLine } from "./run-lbctl.ts";

const daemonCommand = (configFile: string): string[] => [...lbctlCommandLine(), "apply", "--daemon", "--config", configFile];
const daemonEnv = (): Record<string, string | undefined> => ({ ...process.env, LBCTL_TEST_MEMORY_KERNEL: "1", NO_COLOR: "1" });

export function spawnMemoryKernelDaemon(configFile: string, onOutput: (text: string) => void): ReturnType<typeof Bun.spawn> {
  const proc = Bun.spawn(daemonCommand(configFile), {
    env: daemonEnv(),
    stdout: "pipe",
    stderr: "pipe",
  });
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream as ReadableStream<Uint8Array>) onOutput(decoder.decode(chunk));
    })();
  }
  return proc;
}

/**
 * The same, with everything it prints appended to `logFile` (one descriptor for stdout and stderr, so lines stay in
 * order): a test that reads the file sees what the daemon wrote, with no pipe reader of its own in between.
 */
export function spawnMemoryKernelDaemonToFile(configFile: string, logFile: string): ReturnType<typeof Bun.spawn> {
  const fd = openSync(logFile, "a");
  try {
    return Bun.spawn(daemonCommand(configFile), {
      env: daemonEnv(),
      stdin: "ignore",
      stdout: fd,
      stderr: fd,
    });
  } finally {
    closeSync(fd);
  }
}
