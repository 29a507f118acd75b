/**
 * The three files `lbctl setup sysctl` owns, rendered from the config (pure): the sysctl profile, the ip_vs module
 * options and the list of modules loaded at boot. `doctor` renders them the same way to tell whether the files on
 * disk are in sync.
 */

import type { Config } from "../../config/model.ts";
import { CONN_TAB_BITS, type TuningProfile, tuningNeeds, wantedSysctls } from "./profiles.ts";

export const MODPROBE_FILE = "/etc/modprobe.d/lbctl.conf";
export const MODULES_LOAD_FILE = "/etc/modules-load.d/lbctl.conf";

export interface SysctlFile {
  text: string;
  /** The settings written, in order. */
  settings: { key: string; value: string }[];
  /** Wanted keys this kernel does not have (left out of the file). */
  missing: string[];
}

/**
 * The sysctl file of the profile; `exists(key)` tells whether the running kernel has a key (/proc/sys), and only
 * keys that exist are written (a key that does not exist makes `sysctl --system` report an error at every boot).
 */
export function renderSysctlFile(config: Pick<Config, "main" | "services">, exists: (key: string) => boolean): SysctlFile {
  const profile = config.main.system.tuning_profile as TuningProfile;
  const lines = [
    "# Written by `lbctl setup sysctl`: do not edit, change system.tuning_profile and rerun it.",
    `# Tuning profile: ${profile}. The reason for each key: docs/install.md, "Tuning profiles".`,
  ];
  const settings: { key: string; value: string }[] = [];
  const missing: string[] = [];
  for (const wanted of wantedSysctls(profile, tuningNeeds(config))) {
    if (!exists(wanted.key)) {
      missing.push(wanted.key);
      continue;
    }
    lines.push("", `# ${wanted.reason}`, `${wanted.key} = ${wanted.value}`);
    settings.push({ key: wanted.key, value: wanted.value });
  }
  if (missing.length > 0) lines.push("", `# Not on this kernel, so left out: ${missing.join(", ")}`);
  return { text: `${lines.join("\n")}\n`, settings, missing };
}

export function renderModprobeFile(profile: TuningProfile): string {
  return [
    "# Written by `lbctl setup sysctl`: do not edit, change system.tuning_profile and rerun it.",
    "# conn_tab_bits is a parameter of the ip_vs module, read when it loads (not a sysctl): it takes effect after",
    "# a reboot or once ip_vs is unloaded and loaded again (which drops the IPVS table).",
    `options ip_vs conn_tab_bits=${CONN_TAB_BITS[profile]}`,
    "",
  ].join("\n");
}

/** ip_vs and the scheduler module of every scheduler the config uses, sorted. */
export function requiredModules(config: Pick<Config, "services">): string[] {
  const schedulers = [...new Set(config.services.map((service) => service.scheduler))].sort();
  return ["ip_vs", ...schedulers.map((scheduler) => `ip_vs_${scheduler}`)];
}

export function renderModulesLoadFile(config: Pick<Config, "services">): string {
  return [
    "# Written by `lbctl setup sysctl`: the kernel modules lbctl needs at boot (IPVS and the schedulers of the",
    "# config). Do not edit: rerun the command after changing schedulers.",
    ...requiredModules(config),
    "",
  ].join("\n");
}

/** The `options ip_vs conn_tab_bits=N` value in a modprobe file's text, if any. */
export function parseConnTabBits(text: string): number | undefined {
  let bits: number | undefined;
  for (const line of text.split("\n")) {
    const match = /^\s*options\s+ip_vs\s+(.*)$/.exec(line);
    const value = match?.[1] && /(?:^|\s)conn_tab_bits=(\d+)/.exec(match[1])?.[1];
    if (value) bits = Number(value);
  }
  return bits;
}
