import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** An installed kernel whose modules include IPVS. */
export interface LabKernel {
  version: string;
  /** The compressed boot image, /boot/vmlinuz-<version>. */
  vmlinuz: string;
  /** /lib/modules/<version> */
  modulesDir: string;
}

const IPVS_CORE_MODULES = ["ip_vs.ko", "ip_vs.ko.xz", "ip_vs.ko.zst", "ip_vs.ko.gz"];

function shipsIpvs(modulesDir: string): boolean {
  const ipvsDir = join(modulesDir, "kernel/net/netfilter/ipvs");
  return IPVS_CORE_MODULES.some((name) => existsSync(join(ipvsDir, name)));
}

function describe(version: string): LabKernel {
  return { version, vmlinuz: `/boot/vmlinuz-${version}`, modulesDir: `/lib/modules/${version}` };
}

function isUsable(kernel: LabKernel): boolean {
  return existsSync(kernel.vmlinuz) && shipsIpvs(kernel.modulesDir);
}

/**
 * The newest installed kernel that ships IPVS as modules (linux-image-amd64 pulls one in), or the one named by
 * LBCTL_LAB_KERNEL. Undefined when there is none.
 */
export function findLabKernel(env: Record<string, string | undefined> = process.env): LabKernel | undefined {
  const requested = env.LBCTL_LAB_KERNEL;
  if (requested) {
    const kernel = describe(requested);
    return isUsable(kernel) ? kernel : undefined;
  }
  const versions = existsSync("/boot")
    ? readdirSync("/boot")
        .filter((name) => name.startsWith("vmlinuz-"))
        .map((name) => name.slice("vmlinuz-".length))
    : [];
  versions.sort((a, b) => b.localeCompare(a, "en", { numeric: true }));
  return versions.map(describe).find(isUsable);
}
