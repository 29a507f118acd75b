import { DEFAULT_TIMEOUT_SECONDS } from "./run-in-lab.ts";

export interface LaunchArgs {
  command: string[];
  timeoutSeconds: number;
  verbose: boolean;
  help: boolean;
}

export const USAGE = `Usage: bun tests/lab/launch.ts [--timeout SECONDS] [--verbose] -- COMMAND [ARG...]
       npm run lab -- [--timeout SECONDS] [--verbose] [--] COMMAND [ARG...]

Boots a kernel with IPVS under qemu, with this machine's filesystem as its root, and runs COMMAND in it as root,
in the current directory. Exits with COMMAND's status; 2 if the lab cannot run here, 124 on timeout, 125 if the
guest failed.

  --timeout SECONDS  stop the guest after this long (default ${DEFAULT_TIMEOUT_SECONDS})
  --verbose          show the kernel log and boot timings on stderr`;

/**
 * Launcher options come first, before or after a "--" (npm run lab -- passes one), and end at the first word that
 * is not an option or at a further "--"; the rest is the command. Throws RangeError on bad usage.
 */
export function parseLaunchArgs(argv: string[]): LaunchArgs {
  const args: LaunchArgs = { command: [], timeoutSeconds: DEFAULT_TIMEOUT_SECONDS, verbose: false, help: false };
  let index = argv[0] === "--" ? 1 : 0;
  for (; index < argv.length; index++) {
    const word = argv[index]!;
    if (word === "--") {
      index++;
      break;
    }
    if (word === "--verbose") args.verbose = true;
    else if (word === "--help" || word === "-h") args.help = true;
    else if (word === "--timeout" || word.startsWith("--timeout=")) {
      const value = word.includes("=") ? word.slice("--timeout=".length) : argv[++index];
      const seconds = Number(value);
      if (!value || !Number.isFinite(seconds) || seconds <= 0) {
        throw new RangeError(`--timeout needs a positive number of seconds, not ${JSON.stringify(value ?? "")}`);
      }
      args.timeoutSeconds = seconds;
    } else if (word.startsWith("--")) throw new RangeError(`Unknown option ${word}`);
    else break;
  }
  args.command = argv.slice(index);
  if (args.command.length === 0 && !args.help) throw new RangeError("No command given");
  return args;
}
