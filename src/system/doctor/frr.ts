/**
 * FRR for VRRP: installed, vrrpd enabled and running, lbctl's managed block present and in sync, and the macvlan
 * FRR's VRRP needs. Without a `vrrp:` section these are warnings, never failures: keepalived may hold the VIP.
 */

import { FrrConfigError, frrBlockFor, vrrpPlan } from "../frr/block.ts";
import { macvlanPlan, shellCommand } from "../frr/macvlan.ts";
import { currentBlock } from "../frr/managed-block.ts";
import { type CheckResult, type DoctorContext, fail, pass, warn } from "./types.ts";

export const VRRPD_PATHS = ["/usr/lib/frr/vrrpd", "/usr/libexec/frr/vrrpd"];
export const FRR_DAEMONS_FILE = "/etc/frr/daemons";

export function checkFrr(ctx: DoctorContext): CheckResult[] {
  const { config, probe } = ctx;
  if (!config) return [];
  // BGP without VRRP: FRR is checked by the bgp check (doctor/bgp.ts); vrrpd is not needed.
  if (!config.main.vrrp && config.main.bgp.enabled) return [];
  const configured = Boolean(config.main.vrrp);
  // Without vrrp: a note, not a problem.
  const problem = (name: string, message: string, fix: string) =>
    configured ? fail(name, message, fix) : warn(name, `${message} (no vrrp section in the config: fine if keepalived or another tool holds the VIP)`, fix);

  const results: CheckResult[] = [];
  const vrrpd = VRRPD_PATHS.find((path) => probe.exists(path));
  if (!vrrpd) {
    results.push(problem("frr", "FRR's vrrpd is not installed", "apt-get install frr (Debian/Ubuntu) or dnf install frr (RHEL/Fedora), or install.sh without --skip-frr"));
    return results;
  }
  results.push(pass("frr", `FRR is installed (${vrrpd})`));

  const daemons = probe.readText(FRR_DAEMONS_FILE);
  const enabled = daemons !== undefined && /^\s*vrrpd\s*=\s*yes\s*$/m.test(daemons);
  const running = probe.processNames().has("vrrpd");
  if (!enabled) results.push(problem("frr vrrpd", `vrrpd is not enabled in ${FRR_DAEMONS_FILE}`, `set vrrpd=yes in ${FRR_DAEMONS_FILE}, then systemctl restart frr`));
  else if (!running) results.push(problem("frr vrrpd", `vrrpd is enabled in ${FRR_DAEMONS_FILE} but not running`, "systemctl restart frr"));
  else results.push(pass("frr vrrpd", "vrrpd is enabled and running"));

  if (!configured) {
    results.push(warn("frr block", "no vrrp section in the config, so lbctl manages no FRR configuration", "add a vrrp section and run lbctl setup frr, or use keepalived"));
    return results;
  }
  const file = config.main.system.frr_config;
  let expected: string | undefined;
  try {
    expected = frrBlockFor(config);
  } catch (error) {
    if (!(error instanceof FrrConfigError)) throw error;
    results.push(fail("frr block", error.message, `set network.frontend.interface in ${ctx.configPath}`));
    return results;
  }
  const text = probe.readText(file);
  let found: string | undefined;
  try {
    found = text === undefined ? undefined : currentBlock(text, file);
  } catch (error) {
    if (!(error instanceof FrrConfigError)) throw error;
    results.push(fail("frr block", error.message, `repair the markers in ${file}, then lbctl setup frr`));
    return results;
  }
  if (text === undefined) results.push(fail("frr block", `${file} (system.frr_config) does not exist or cannot be read`, "lbctl setup frr"));
  else if (found === undefined) results.push(fail("frr block", `${file} has no lbctl managed block`, "lbctl setup frr"));
  else if (found !== expected) results.push(fail("frr block", `the managed block in ${file} differs from the config (lbctl setup frr --dry-run shows how)`, "lbctl setup frr"));
  else results.push(pass("frr block", `the managed block in ${file} matches the config`));

  const links = probe.links();
  const plan = vrrpPlan(config)!;
  if (!links) {
    results.push(warn("frr macvlan", "cannot list interfaces (is iproute2's ip installed?), so the macvlan FRR's VRRP needs was not checked", "apt-get install iproute2"));
    return results;
  }
  for (const family of macvlanPlan(plan, links, config.main.network.frontend.vip, config.main.network.frontend.cidr)) {
    const name = `frr macvlan ipv${family.family}`;
    if (family.problems.length === 0) results.push(pass(name, `${family.device} carries MAC ${family.mac} and the VIPs, in bridge mode`));
    else results.push(fail(name, family.problems.join("; "), family.commands.length > 0 ? family.commands.map(shellCommand).join(" && ") : "lbctl setup frr --dry-run shows what to do"));
  }
  return results;
}
