/**
 * The kernel lab: runs a command inside a qemu guest whose kernel has IPVS. See docs/testing.md.
 *
 *   bun tests/lab/launch.ts -- bun test tests/lab/smoke.test.ts
 *   npm run lab -- bun test tests/lab
 */
import { parseLaunchArgs, USAGE } from "./vm/cli-args.ts";
import { LAB_EXIT } from "./vm/errors.ts";
import { runInLab } from "./vm/run-in-lab.ts";

export { type LabAvailability, labAvailability } from "./vm/availability.ts";
export { LAB_EXIT } from "./vm/errors.ts";
export { runInLab, type RunInLabOptions } from "./vm/run-in-lab.ts";

/** Usage errors use EX_USAGE, apart from the lab's own statuses. */
const EXIT_USAGE = 64;

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseLaunchArgs(argv);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    process.stderr.write(`lbctl lab: ${error.message}\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  return runInLab(args.command, { timeoutSeconds: args.timeoutSeconds, verbose: args.verbose });
}

if (import.meta.main) {
  process.exit(await main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`lbctl lab: unexpected failure: ${error instanceof Error ? error.stack : String(error)}\n`);
    return LAB_EXIT.guestFailed;
  }));
}
