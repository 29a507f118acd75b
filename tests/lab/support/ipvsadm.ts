import { run } from "./exec.ts";

/** Runs ipvsadm with the arguments and returns its stdout; throws CommandError when it fails. */
export function ipvsadm(args: string[]): string {
  return run(["ipvsadm", ...args]);
}

/**
 * The kernel's IPVS table as `ipvsadm -Sn` prints it, one rule per line, sorted: an oracle for tests that is
 * independent of lbctl's own netlink code.
 */
export function ipvsadmSave(): string[] {
  return ipvsadm(["-S", "-n"])
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .sort();
}

/** Removes every virtual service (and its real servers): the state each test starts from. */
export function ipvsadmClear(): void {
  ipvsadm(["-C"]);
}
