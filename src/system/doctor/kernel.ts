/** IPVS in the kernel (asked over netlink), the netlink libraries, and the scheduler modules the config uses. */

import { ModuleIndex, moduleFacts } from "./modules.ts";
import { type CheckResult, type DoctorContext, fail, pass, warn } from "./types.ts";

const LIBNL_FIX = "apt-get install libnl-3-200 libnl-genl-3-200 (Debian/Ubuntu) or dnf install libnl3 (RHEL/Alma/Rocky/Fedora)";

export function checkLibnl(ctx: DoctorContext): CheckResult[] {
  const error = ctx.probe.libnlError();
  if (error) return [fail("libnl", `lbctl talks to IPVS through libnl-genl-3, which cannot be loaded: ${error}`, LIBNL_FIX)];
  return [pass("libnl", "libnl-3 and libnl-genl-3 load")];
}

export function checkIpvs(ctx: DoctorContext): CheckResult[] {
  const { probe } = ctx;
  const info = probe.ipvsInfo();
  if (info.ok) {
    return [pass("ipvs", `IPVS ${info.version} answers over netlink (connection table: ${info.connTabSize} buckets)`)];
  }
  if (info.reason === "library") return [fail("ipvs", `IPVS cannot be asked: ${info.message}`, LIBNL_FIX)];
  if (info.reason === "other") return [fail("ipvs", `Asking IPVS over netlink failed: ${info.message}`, "run as root (netlink needs CAP_NET_ADMIN) and retry")];
  const missing = ipvsMissing((path) => probe.readText(path), probe.kernelRelease());
  return [fail("ipvs", `The IPVS netlink family is missing: ${missing.why}`, missing.fix)];
}

/**
 * Why IPVS does not answer over netlink, and what fixes it, from the module files of the running kernel. `doctor`
 * and the commands that need IPVS (apply, status, disable, the daemon) give the same reason: `modprobe ip_vs` only
 * where the module exists.
 */
export function ipvsMissing(readText: (path: string) => string | undefined, release: string): { why: string; fix: string } {
  const modules = new ModuleIndex(moduleFacts(readText, release));
  switch (modules.state("ip_vs")) {
    case "available":
      return { why: `module ip_vs exists for kernel ${release} but is not loaded`, fix: "modprobe ip_vs (and lbctl setup sysctl to load it at boot)" };
    case "loaded":
    case "builtin":
      return {
        why: `ip_vs is in kernel ${release}, but its netlink family does not answer here (a container or network namespace without it?)`,
        fix: "run lbctl on the host itself, as root",
      };
    case "missing":
      return {
        why: modules.knowsFiles
          ? `kernel ${release} has no ip_vs module and does not build it in (CONFIG_IP_VS is not set)`
          : `IPVS is not loaded and there is no /lib/modules/${release}/modules.dep to find its module in (a kernel without loadable modules, or its modules are not installed)`,
        fix: "boot a kernel built with IPVS (CONFIG_IP_VS=m), e.g. Debian's linux-image-amd64 or RHEL's kernel, then modprobe ip_vs",
      };
  }
}

export function checkSchedulers(ctx: DoctorContext): CheckResult[] {
  const { probe, config } = ctx;
  if (!config) return [];
  const schedulers = [...new Set(config.services.map((service) => service.scheduler))].sort();
  if (schedulers.length === 0) return [pass("schedulers", "no services configured: no scheduler needed")];
  const release = probe.kernelRelease();
  const modules = new ModuleIndex(moduleFacts((path) => probe.readText(path), release));
  const results: CheckResult[] = [];
  for (const scheduler of schedulers) {
    const module = `ip_vs_${scheduler}`;
    const name = `scheduler ${scheduler}`;
    const users = config.services.filter((s) => s.scheduler === scheduler).map((s) => s.name);
    const usedBy = `used by ${users.slice(0, 3).join(", ")}${users.length > 3 ? ` and ${users.length - 3} more` : ""}`;
    switch (modules.state(module)) {
      case "loaded":
        results.push(pass(name, `${module} is loaded (${usedBy})`));
        break;
      case "builtin":
        results.push(pass(name, `${module} is built into the kernel (${usedBy})`));
        break;
      case "available":
        results.push(pass(name, `${module} exists for kernel ${release}; the kernel loads it when a service first uses it (${usedBy})`));
        break;
      case "missing":
        results.push(
          modules.knowsFiles
            ? fail(name, `kernel ${release} has no ${module} (neither a module nor built in), so services ${usedBy.slice(8)} cannot be created${scheduler === "twos" ? "; Debian 12's kernel lacks it (CONFIG_IP_VS_TWOS)" : ""}`, `choose another scheduler in the service files (e.g. wlc or mh), or a kernel with ${module}`)
            : warn(name, `cannot tell whether kernel ${release} has ${module}: /lib/modules/${release}/modules.dep is not readable`, `ls /lib/modules/${release}/kernel/net/netfilter/ipvs/`),
        );
    }
  }
  return results;
}
