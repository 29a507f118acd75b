import { FramedOutput } from "./console-filter.ts";
import { type GuestBoot, qemuCommand } from "./qemu.ts";
import { listenForGuestStderr } from "./stderr-socket.ts";

/** Why the launcher stopped the guest itself, if it did. */
export type StopReason = "timeout" | "SIGINT" | "SIGTERM";

/** How a guest run ended, before anyone looks at the job share. */
export interface GuestOutcome {
  stoppedBy: StopReason | undefined;
  /** Whether the command started (its begin marker went by on ttyS0). */
  commandStarted: boolean;
  qemuExitCode: number | null;
}

export interface SuperviseOptions {
  timeoutSeconds: number;
  /** Told once the command has started, with the seconds since qemu was spawned. */
  onCommandStarted?: (secondsSinceSpawn: number) => void;
}

/** qemu exits as soon as the guest reboots; give the stderr socket this long to deliver what is left. */
const STDERR_DRAIN_MS = 1000;

async function pump(stream: ReadableStream<Uint8Array>, write: (chunk: Uint8Array) => void): Promise<void> {
  for await (const chunk of stream) write(chunk);
}

/**
 * Runs qemu for one boot: the command's stdout (unframed) to our stdout, the guest's stderr channel to our stderr,
 * stopping the guest on timeout or when this process is interrupted.
 */
export async function superviseGuest(boot: GuestBoot, options: SuperviseOptions): Promise<GuestOutcome> {
  const guestStderr = listenForGuestStderr(boot.stderrSocket, (chunk) => process.stderr.write(chunk));
  const startedAt = performance.now();
  // qemu's own stderr (its error messages) goes straight to ours.
  const guest = Bun.spawn(qemuCommand(boot), { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  let stoppedBy: StopReason | undefined;
  const stop = (reason: StopReason) => {
    stoppedBy ??= reason;
    guest.kill("SIGKILL");
  };
  const timer = setTimeout(() => stop("timeout"), options.timeoutSeconds * 1000);
  const onSigint = () => stop("SIGINT");
  const onSigterm = () => stop("SIGTERM");
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);

  const output = new FramedOutput(boot.nonce);
  try {
    await Promise.all([
      pump(guest.stdout, (chunk) => {
        const wasStarted = output.started;
        const forwarded = output.push(chunk);
        if (!wasStarted && output.started) options.onCommandStarted?.((performance.now() - startedAt) / 1000);
        if (forwarded.length > 0) process.stdout.write(forwarded);
      }).then(() => process.stdout.write(output.flush())),
      guest.exited.then(() => setTimeout(() => guestStderr.abandon(), STDERR_DRAIN_MS).unref()),
      guestStderr.closed,
    ]);
    return { stoppedBy, commandStarted: output.started, qemuExitCode: guest.exitCode };
  } finally {
    clearTimeout(timer);
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    guest.kill("SIGKILL");
  }
}
