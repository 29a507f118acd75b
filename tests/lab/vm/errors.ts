/**
 * Exit statuses the lab itself produces, chosen so that callers can tell "the lab could not run" and "the guest
 * broke" apart from "the command failed" (bun test exits 1 on failing tests).
 */
export const LAB_EXIT = {
  /** The lab cannot run on this machine: not root, qemu or the kernel missing. Nothing was started. */
  unavailable: 2,
  /** The command did not finish within the timeout; the guest was stopped. Same number as coreutils `timeout`. */
  timeout: 124,
  /** The guest stopped without reporting the command's exit status (boot failure, kernel panic, killed qemu). */
  guestFailed: 125,
} as const;

/** A lab failure that is not the command's own: carries the exit status the launcher reports for it. */
export class LabError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "LabError";
    this.exitCode = exitCode;
  }
}

export class LabUnavailableError extends LabError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, LAB_EXIT.unavailable, options);
    this.name = "LabUnavailableError";
  }
}

export class LabTimeoutError extends LabError {
  constructor(timeoutSeconds: number) {
    super(`The command did not finish within ${timeoutSeconds} s, so the guest was stopped`, LAB_EXIT.timeout);
    this.name = "LabTimeoutError";
  }
}

export class LabGuestError extends LabError {
  constructor(message: string) {
    super(message, LAB_EXIT.guestFailed);
    this.name = "LabGuestError";
  }
}
