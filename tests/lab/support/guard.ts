/** Thrown when a lab test runs outside the kernel-lab guest (where IPVS and root are missing). */
export class NotInLabError extends Error {
  constructor() {
    super("This test needs the kernel lab; run it with: bun tests/lab/launch.ts -- bun test <file>");
    this.name = "NotInLabError";
  }
}

/** Whether this process runs inside the kernel-lab guest (the launcher sets LBCTL_LAB=1 there). */
export function isInLab(): boolean {
  return process.env.LBCTL_LAB === "1";
}

/** Call first in every lab test file (e.g. in beforeAll): fails loudly instead of testing the wrong kernel. */
export function requireLab(): void {
  if (!isInLab()) throw new NotInLabError();
}
