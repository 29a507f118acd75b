import { join } from "node:path";

/** Everything one guest boot needs. */
export interface GuestBoot {
  qemu: string;
  kernelImage: string;
  initramfs: string;
  /** Host directory shared writable with the guest: job.sh in, status and the kernel log out. */
  jobDir: string;
  /** Per-run token framing the command's output on ttyS0 (see console-filter.ts). */
  nonce: string;
  /** Unix socket the launcher listens on; qemu connects to it and sends what the guest writes to ttyS1. */
  stderrSocket: string;
  /** Send the kernel log and the init's step timings to stderr as they happen. */
  verbose: boolean;
}

/** Where the kernel log goes when not verbose; shown when the guest fails. */
export const KERNEL_LOG_FILE = "kernel.log";

/**
 * Serial ports: ttyS0 is qemu's stdout (the command's stdout, framed by markers); ttyS1 goes to the launcher's
 * socket (the command's stderr and the init's diagnostics; a socket because qemu cannot reopen the socketpair Bun
 * gives it as stderr); ttyS2 is the kernel console, written to a file so kernel messages never mix into the
 * command's output.
 */
export function qemuCommand(boot: GuestBoot): string[] {
  const kernelConsole = boot.verbose ? "console=ttyS1 loglevel=7 lbctl_lab_verbose=1" : "console=ttyS2 loglevel=4";
  const append = [
    kernelConsole,
    // Reboot on panic; with -no-reboot that ends qemu instead of hanging until the timeout.
    "panic=-1",
    // The crypto self-tests take about 0.3 s of every emulated boot and test nothing of ours.
    "cryptomgr.notests",
    // Unknown key=value parameters reach PID 1 as environment variables.
    `lbctl_lab_nonce=${boot.nonce}`,
  ].join(" ");
  return [
    boot.qemu,
    // Nested KVM hangs on these machines: software emulation, with one host thread per guest CPU.
    ...["-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2", "-m", "2048"],
    ...["-nographic", "-nodefaults", "-no-user-config", "-no-reboot"],
    ...["-chardev", `socket,id=guest-stderr,path=${boot.stderrSocket}`],
    ...["-serial", "stdio", "-serial", "chardev:guest-stderr", "-serial", `file:${join(boot.jobDir, KERNEL_LOG_FILE)}`],
    ...["-kernel", boot.kernelImage, "-initrd", boot.initramfs, "-append", append],
    ...["-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"],
    ...["-virtfs", `local,path=${boot.jobDir},mount_tag=labjob,security_model=none`],
  ];
}
