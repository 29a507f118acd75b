/** `lbctl validate [--json] [--quiet]`: made for cron; silent with --quiet unless the config is invalid. */

import { formatIssue, type ConfigIssue } from "../config/errors.ts";
import { loadConfig, type LoadResult } from "../config/load.ts";
import { countConfig } from "../config/model.ts";
import { configPath, lbctlCommand } from "./common.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput } from "./output.ts";

export default lbctlCommand({
  meta: { name: "validate", description: "Load and validate the main file and every service file" },
  args: {
    json: { type: "boolean", description: "Print one JSON object (also when invalid)" },
    quiet: { type: "boolean", description: "Print nothing when the config is valid" },
  },
  run({ args }) {
    const out = createOutput({ debug: args.debug });
    const file = configPath(args);
    const result = loadConfig(file);
    const exitCode = exitCodeOf(result);
    if (args.json) {
      out.json(jsonReport(result));
      return exitCode;
    }
    if (!result.ok) {
      for (const issue of result.issues) out.log.error(formatIssue(issue));
      if (!args.quiet) out.log.error(`${file}: ${describeFailure(result.issues, result.code)}`);
      return exitCode;
    }
    if (args.quiet) return exitCode;
    for (const notice of result.notices) out.log.warn(formatIssue(notice));
    const counts = countConfig(result.config);
    const files = result.config.files.length;
    out.log.success(
      `${file} is valid: ${plural(counts.services, "service")}, ${plural(counts.virtualServices, "virtual service")}, ${plural(counts.destinations, "destination")} (${plural(files, "file")})`,
    );
    return exitCode;
  },
});

/** The object `validate --json` prints (spec/cli.md); the fuzzing harness checks it in-process too. */
export function jsonReport(result: LoadResult) {
  const counts = result.ok ? countConfig(result.config) : undefined;
  return {
    valid: result.ok,
    errors: result.ok ? [] : result.issues,
    services: counts?.services ?? null,
    virtual_services: counts?.virtualServices ?? null,
    destinations: counts?.destinations ?? null,
    warnings: result.ok ? result.notices : [],
    files: result.ok ? result.config.files : undefined,
  };
}

export function exitCodeOf(result: LoadResult): number {
  return result.ok ? ExitCode.ok : result.code === "unreadable" ? ExitCode.usage : ExitCode.failed;
}

function describeFailure(issues: readonly ConfigIssue[], code: "unreadable" | "invalid"): string {
  return code === "unreadable" ? "cannot be loaded" : `invalid (${plural(issues.length, "error")})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
