import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { LabUnavailableError } from "./errors.ts";
import type { LabKernel } from "./kernel.ts";
import { findTool } from "./tools.ts";

/** One `insmod` of the boot plan: a module file of the host's kernel and the options modprobe would pass. */
export interface ModuleLoad {
  path: string;
  params: string;
}

/** Needed to mount the guest's root: the 9p transport over virtio-pci, and overlayfs. */
const ROOT_MODULES = ["virtio_pci", "9pnet_virtio", "9p", "overlay"];
/** What lab tests use from the first instruction on: IPVS and the links that build test topologies. */
const LAB_MODULES = ["ip_vs", "veth", "dummy", "macvlan"];
/** Tunnel devices for the IPIP/GRE/FOU forwarding modes; loaded when the kernel has them. */
const TUNNEL_MODULES = ["ipip", "ip_gre", "fou", "ip6_tunnel"];
/** Modules in the IPVS directory that are not schedulers (application helpers, persistence engines). */
const NOT_SCHEDULERS = /^ip_vs_(ftp|pe_.*)$/;

function moduleName(fileName: string): string {
  return fileName.replace(/\.ko(\.(xz|zst|gz))?$/, "");
}

/** Every IPVS scheduler module the kernel ships (Debian 12 has all but twos). */
export function ipvsSchedulerModules(kernel: LabKernel): string[] {
  const ipvsDir = join(kernel.modulesDir, "kernel/net/netfilter/ipvs");
  if (!existsSync(ipvsDir)) return [];
  return readdirSync(ipvsDir)
    .map(moduleName)
    .filter((name) => name.startsWith("ip_vs_") && !NOT_SCHEDULERS.test(name))
    .sort();
}

/** The `insmod` lines modprobe would run for one module, dependencies first; undefined if it does not exist. */
function showDepends(modprobe: string, kernel: LabKernel, module: string): ModuleLoad[] | undefined {
  const result = Bun.spawnSync([modprobe, "-S", kernel.version, "--show-depends", module], { stderr: "ignore" });
  if (result.exitCode !== 0) return undefined;
  const loads: ModuleLoad[] = [];
  for (const line of result.stdout.toString().split("\n")) {
    // Other lines are "builtin NAME": nothing to load.
    const match = /^insmod (\S+)\s*(.*)$/.exec(line.trim());
    if (match) loads.push({ path: match[1]!, params: match[2]! });
  }
  return loads;
}

/**
 * The modules the guest loads at boot, in load order and without repeats. Fails with LabUnavailableError when a
 * module the lab cannot do without is missing from the kernel.
 */
export function planModuleLoads(kernel: LabKernel): ModuleLoad[] {
  const modprobe = findTool("modprobe");
  if (!modprobe) throw new LabUnavailableError("modprobe is not installed (package kmod); run tests/lab/setup.sh");
  const required = [...ROOT_MODULES, ...LAB_MODULES, ...ipvsSchedulerModules(kernel)];
  const plan = new Map<string, ModuleLoad>();
  for (const module of [...required, ...TUNNEL_MODULES]) {
    const loads = showDepends(modprobe, kernel, module);
    if (!loads && required.includes(module)) {
      throw new LabUnavailableError(`The kernel ${kernel.version} has no module ${module}`);
    }
    for (const load of loads ?? []) if (!plan.has(load.path)) plan.set(load.path, load);
  }
  return [...plan.values()];
}
