import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { repoRoot } from "./paths.ts";
import { SYSTEM_PATH } from "./tools.ts";

/** What the guest runs: the command, where, and with exactly which environment. */
export interface LabJob {
  command: string[];
  cwd: string;
  env: Record<string, string>;
}

/** Host variables the command sees unchanged, by exact name and by prefix. */
const PASSED_NAMES = ["CI", "TERM", "LANG", "LC_ALL", "TZ", "NO_COLOR", "FORCE_COLOR"];
const PASSED_PREFIXES = ["LBCTL_", "BENCH_"];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** File in the job share where job.sh explains a failure to start the command (not the command's own failure). */
export const SETUP_ERROR_FILE = "setup-error";

/**
 * PATH for the guest: the host's, plus the repo's node_modules/.bin and the directory of the bun running this
 * launcher, so `bun` resolves in the guest even when the launcher was started by absolute path.
 */
function guestPath(hostPath: string | undefined): string {
  const entries = [join(repoRoot, "node_modules/.bin"), dirname(process.execPath)].filter((dir) => existsSync(dir));
  entries.push(...(hostPath ?? "").split(":"), ...SYSTEM_PATH.split(":"));
  return [...new Set(entries.filter(Boolean))].join(":");
}

/** The command's environment: a selection of the host's, the caller's additions, and LBCTL_LAB=1. */
export function guestEnvironment(
  hostEnv: Record<string, string | undefined>,
  options: { extra?: Record<string, string>; colors?: boolean } = {},
): Record<string, string> {
  const env: Record<string, string> = { PATH: guestPath(hostEnv.PATH), HOME: hostEnv.HOME || "/root" };
  for (const [name, value] of Object.entries(hostEnv)) {
    if (value === undefined) continue;
    if (PASSED_NAMES.includes(name) || PASSED_PREFIXES.some((prefix) => name.startsWith(prefix))) env[name] = value;
  }
  // The command writes into a pipe, so colour-aware tools would turn colours off even on a terminal.
  if (options.colors && env.NO_COLOR === undefined && env.FORCE_COLOR === undefined) env.FORCE_COLOR = "1";
  Object.assign(env, options.extra);
  env.LBCTL_LAB = "1";
  return env;
}

export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** job.sh: run by the guest's init, inside the guest root, with an empty environment. */
export function renderJobScript(job: LabJob): string {
  if (job.command.length === 0) throw new RangeError("The lab needs a command to run");
  const lines = ["# Written by tests/lab/launch.ts for one guest run.", "ulimit -n 65536 2>/dev/null"];
  for (const [name, value] of Object.entries(job.env)) {
    if (!ENV_NAME.test(name)) throw new RangeError(`Not a valid environment variable name: ${JSON.stringify(name)}`);
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  const cwd = shellQuote(job.cwd);
  const setupError = shellQuote(`/run/lbctl-lab/${SETUP_ERROR_FILE}`);
  lines.push(`cd ${cwd} || { echo "the working directory "${cwd}" does not exist in the guest" >${setupError}; exit 125; }`);
  lines.push(`exec ${job.command.map(shellQuote).join(" ")}`);
  return `${lines.join("\n")}\n`;
}
