/**
 * `lbctl setup sysctl [--dry-run]`: writes the tuning profile to system.sysctl_file (only keys this kernel has) and
 * applies it at once through /proc/sys; writes conn_tab_bits to /etc/modprobe.d/lbctl.conf (an ip_vs module option)
 * and ip_vs plus the configured schedulers to /etc/modules-load.d/lbctl.conf.
 */

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { loadConfigOrThrow } from "../config/load.ts";
import { writeFileAtomic } from "../system/atomic-file.ts";
import { unifiedDiff } from "../system/setup/diff.ts";
import { applySysctls, readSysctl } from "../system/sysctl/apply.ts";
import { procSysPath, type TuningProfile } from "../system/sysctl/profiles.ts";
import { MODPROBE_FILE, MODULES_LOAD_FILE, renderModprobeFile, renderModulesLoadFile, renderSysctlFile } from "../system/sysctl/render.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { CliError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput } from "./output.ts";

const readIfExists = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : undefined);

export default lbctlCommand({
  meta: { name: "sysctl", description: "Write and apply the tuning profile; ip_vs conn_tab_bits to modprobe.d; ip_vs and schedulers to modules-load.d" },
  args: {
    "dry-run": { type: "boolean", description: "Print the diff of each file and the values that would change; change nothing" },
  },
  run({ args }) {
    const out = createOutput({ debug: args.debug });
    const dryRun = Boolean(args["dry-run"]);
    const { config } = loadConfigOrThrow(configPath(args));
    const profile = config.main.system.tuning_profile as TuningProfile;

    // The vs.* keys appear only once ip_vs is loaded.
    if (!existsSync("/proc/sys/net/ipv4/vs") && !dryRun) {
      const modprobe = Bun.spawnSync(["modprobe", "ip_vs"], { stdout: "ignore", stderr: "pipe" });
      if (modprobe.exitCode !== 0) out.log.warn(`modprobe ip_vs failed (${modprobe.stderr.toString().trim() || `exit ${modprobe.exitCode}`}): the net.ipv4.vs.* keys are left out`);
    }
    const sysctl = renderSysctlFile(config, (key) => existsSync(procSysPath(key)));
    const files: [string, string][] = [
      [config.main.system.sysctl_file, sysctl.text],
      [MODPROBE_FILE, renderModprobeFile(profile)],
      [MODULES_LOAD_FILE, renderModulesLoadFile(config)],
    ];
    if (sysctl.missing.length > 0) out.log.warn(`Not on this kernel, left out: ${sysctl.missing.join(", ")}`);

    if (dryRun) {
      for (const [path, text] of files) {
        const diff = unifiedDiff(path, readIfExists(path), text);
        out.print(diff || `${path}: no change`);
      }
      for (const { key, value } of sysctl.settings) {
        const now = readSysctl(key);
        if (now !== value) out.print(`would set ${key} = ${value} (now ${now ?? "unreadable"})`);
      }
      return ExitCode.ok;
    }

    for (const [path, text] of files) {
      if (readIfExists(path) === text) continue;
      try {
        mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
        writeFileAtomic(path, text, { mode: 0o644 });
      } catch (error) {
        throw new CliError(`Cannot write ${path}: ${(error as Error).message}`);
      }
      out.log.success(`wrote ${path}`);
    }
    const applied = applySysctls(sysctl.settings);
    const failed = applied.filter((setting) => setting.error);
    for (const setting of applied) {
      if (setting.error) out.log.error(`${setting.key} = ${setting.value} could not be applied: ${setting.error}`);
      else if (setting.before !== setting.value) out.log.success(`${setting.key} = ${setting.value} (was ${setting.before ?? "?"})`);
    }
    const running = readIfExists("/sys/module/ip_vs/parameters/conn_tab_bits")?.trim();
    const bits = /conn_tab_bits=(\d+)/.exec(files[1]![1])?.[1];
    if (running !== undefined && running !== bits) {
      out.log.info(`ip_vs runs with conn_tab_bits=${running}; ${bits} takes effect when ip_vs is next loaded (at boot; reloading it drops the IPVS table)`);
    }
    if (failed.length > 0) throw new CliError(`${failed.length} of ${applied.length} settings could not be applied (see above); the files are written`);
    out.log.success(`${profile} profile written and applied (${applied.length} settings)`);
    return ExitCode.ok;
  },
});
