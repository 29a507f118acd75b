/** The files `lbctl setup sysctl` writes, compared with what the profile wants now, and whether they were applied. */

import { CONN_TAB_BITS, type TuningProfile } from "../sysctl/profiles.ts";
import { MODPROBE_FILE, MODULES_LOAD_FILE, parseConnTabBits, renderModprobeFile, renderSysctlFile, requiredModules } from "../sysctl/render.ts";
import { SYSCTLS_CHECKED_ALONE } from "./sysctls.ts";
import { type CheckResult, type DoctorContext, pass, warn } from "./types.ts";

const FIX = "lbctl setup sysctl";

export function checkTuningFiles(ctx: DoctorContext): CheckResult[] {
  const { config, probe } = ctx;
  if (!config) return [];
  const results: CheckResult[] = [];
  const profile = config.main.system.tuning_profile as TuningProfile;
  const sysctlFile = config.main.system.sysctl_file;
  const procPath = (key: string) => `/proc/sys/${key.replaceAll(".", "/")}`;
  const rendered = renderSysctlFile(config, (key) => probe.exists(procPath(key)));
  const onDisk = probe.readText(sysctlFile);
  if (onDisk === undefined) results.push(warn("sysctl file", `${sysctlFile} (system.sysctl_file) does not exist: the ${profile} profile is not kept across reboots`, FIX));
  else if (onDisk !== rendered.text) results.push(warn("sysctl file", `${sysctlFile} differs from the ${profile} profile for this config`, FIX));
  else results.push(pass("sysctl file", `${sysctlFile} matches the ${profile} profile`));
  const compared = rendered.settings.filter(({ key }) => !SYSCTLS_CHECKED_ALONE.has(key));
  const stale = compared.filter(({ key, value }) => probe.readText(procPath(key))?.trim().split(/\s+/).join(" ") !== value);
  if (stale.length > 0) {
    const list = stale.map(({ key, value }) => `${key} is ${probe.readText(procPath(key))?.trim() ?? "?"}, not ${value}`).join("; ");
    results.push(warn("sysctl values", `the running kernel differs from the profile: ${list}`, FIX));
  } else {
    results.push(pass("sysctl values", `the running kernel has the ${compared.length} other values of the ${profile} profile`));
  }

  const modprobe = probe.readText(MODPROBE_FILE);
  const bits = CONN_TAB_BITS[profile];
  if (modprobe === undefined || modprobe !== renderModprobeFile(profile)) {
    const now = modprobe === undefined ? "does not exist" : `sets conn_tab_bits=${parseConnTabBits(modprobe) ?? "nothing"}`;
    results.push(warn("modprobe file", `${MODPROBE_FILE} ${now}; the ${profile} profile wants ip_vs conn_tab_bits=${bits}`, FIX));
  } else {
    const running = probe.readText("/sys/module/ip_vs/parameters/conn_tab_bits")?.trim();
    if (running !== undefined && Number(running) !== bits) {
      results.push(warn("modprobe file", `${MODPROBE_FILE} sets conn_tab_bits=${bits} but ip_vs runs with ${running}: it takes effect when ip_vs is next loaded`, "reboot in a maintenance window (reloading ip_vs drops the IPVS table)"));
    } else {
      results.push(pass("modprobe file", `${MODPROBE_FILE} sets ip_vs conn_tab_bits=${bits}${running === undefined ? "" : ", as the kernel runs"}`));
    }
  }

  const modulesLoad = probe.readText(MODULES_LOAD_FILE);
  const listed = new Set((modulesLoad ?? "").split("\n").map((l) => l.replace(/#.*/, "").trim()).filter(Boolean));
  const missing = requiredModules(config).filter((module) => !listed.has(module));
  if (modulesLoad === undefined) results.push(warn("modules-load file", `${MODULES_LOAD_FILE} does not exist: ip_vs is not loaded at boot`, FIX));
  else if (missing.length > 0) results.push(warn("modules-load file", `${MODULES_LOAD_FILE} does not list ${missing.join(", ")}`, FIX));
  else results.push(pass("modules-load file", `${MODULES_LOAD_FILE} lists ip_vs and the schedulers of the config`));
  return results;
}
