import { LabUnavailableError } from "./errors.ts";
import { findStaticBusybox } from "./initramfs.ts";
import { findLabKernel, type LabKernel } from "./kernel.ts";
import { findTool } from "./tools.ts";

export type LabAvailability = { ok: true } | { ok: false; reason: string };

/** What a guest boot needs from the host, once it is known to be there. */
export interface LabHost {
  qemu: string;
  kernel: LabKernel;
}

const SETUP_HINT = "`npm test` or `npm run demo` run as root installs it (tests/lab/setup.sh)";

/** Checks the host can boot the lab; throws LabUnavailableError with one sentence saying what is missing. */
export function requireLabHost(): LabHost {
  if (process.getuid?.() !== 0) {
    throw new LabUnavailableError(
      "The kernel lab must run as root (the guest reads the host's whole root filesystem over 9p)",
    );
  }
  const qemu = findTool("qemu-system-x86_64");
  if (!qemu) throw new LabUnavailableError(`qemu-system-x86_64 is not installed (package qemu-system-x86); ${SETUP_HINT}`);
  const kernel = findLabKernel();
  if (!kernel) {
    const which = process.env.LBCTL_LAB_KERNEL ? `kernel ${process.env.LBCTL_LAB_KERNEL}` : "kernel in /boot";
    throw new LabUnavailableError(`No installed ${which} ships IPVS modules (package linux-image-amd64); ${SETUP_HINT}`);
  }
  if (!findTool("modprobe")) throw new LabUnavailableError(`modprobe is not installed (package kmod); ${SETUP_HINT}`);
  if (!findStaticBusybox()) {
    throw new LabUnavailableError(`No statically linked busybox found (package busybox-static); ${SETUP_HINT}`);
  }
  return { qemu, kernel };
}

/** Whether the kernel lab can run here, and if not, why, in one sentence. */
export function labAvailability(): LabAvailability {
  try {
    requireLabHost();
    return { ok: true };
  } catch (error) {
    if (error instanceof LabUnavailableError) return { ok: false, reason: error.message };
    throw error;
  }
}
