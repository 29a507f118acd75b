/** Runs every check in report order. A check that throws becomes one FAIL line instead of ending the report. */

import { formatIssue } from "../../config/errors.ts";
import type { LoadResult } from "../../config/load.ts";
import { checkConnectionSync } from "./connection-sync.ts";
import { checkBgp } from "./bgp.ts";
import { checkControlPlane } from "./control-plane.ts";
import { checkDaemon } from "./daemon.ts";
import { checkTuningFiles } from "./files.ts";
import { checkFrr } from "./frr.ts";
import { checkIpvs, checkLibnl, checkSchedulers } from "./kernel.ts";
import { checkInterfaces, checkVips } from "./network.ts";
import { checkForwarding, checkIpvsSysctls } from "./sysctls.ts";
import { type CheckResult, type DoctorContext, type HostProbe, fail, pass } from "./types.ts";

type Check = (ctx: DoctorContext) => CheckResult[] | Promise<CheckResult[]>;

const CHECKS: readonly [string, Check][] = [
  ["libnl", checkLibnl],
  ["ipvs", checkIpvs],
  ["schedulers", checkSchedulers],
  ["interfaces", checkInterfaces],
  ["vips", checkVips],
  ["forwarding", checkForwarding],
  ["ipvs sysctls", checkIpvsSysctls],
  ["tuning files", checkTuningFiles],
  ["frr", checkFrr],
  ["connection sync", checkConnectionSync],
  ["bgp", checkBgp],
  ["daemon", checkDaemon],
  ["control plane", checkControlPlane],
];

export function configCheck(configPath: string, loaded: LoadResult): CheckResult {
  if (loaded.ok) {
    const services = loaded.config.services.length;
    return pass("config", `${configPath} is valid (${services} service${services === 1 ? "" : "s"})`);
  }
  const first = loaded.issues[0];
  const more = loaded.issues.length > 1 ? ` (and ${loaded.issues.length - 1} more)` : "";
  return fail("config", `${first ? formatIssue(first) : `${configPath} cannot be loaded`}${more}; the checks that need the config were skipped`, `lbctl validate --config ${configPath}`);
}

export async function runDoctor(probe: HostProbe, configPath: string, loaded: LoadResult): Promise<CheckResult[]> {
  const ctx: DoctorContext = { probe, configPath, config: loaded.ok ? loaded.config : undefined };
  const results: CheckResult[] = [configCheck(configPath, loaded)];
  for (const [name, check] of CHECKS) {
    try {
      results.push(...(await check(ctx)));
    } catch (error) {
      results.push(fail(name, `the check itself failed: ${error instanceof Error ? error.message : String(error)}`, "rerun with --debug and report it"));
    }
  }
  return results;
}

export function exitCodeOf(results: readonly CheckResult[]): 0 | 1 {
  return results.some((result) => result.status === "fail") ? 1 : 0;
}

/** One line per check, `PASS name: message`, with `fix:` under each warning and failure. */
export function renderReport(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((result) => result.name.length));
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`${result.status.toUpperCase().padEnd(4)}  ${result.name.padEnd(width)}  ${result.message}`);
    if (result.fix) lines.push(`      ${" ".repeat(width)}  fix: ${result.fix}`);
  }
  const count = (status: string) => results.filter((result) => result.status === status).length;
  lines.push("", `${count("pass")} passed, ${count("warn")} warnings, ${count("fail")} failed`);
  return `${lines.join("\n")}\n`;
}
