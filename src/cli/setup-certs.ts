/**
 * `lbctl setup certs`: the control plane's PKI (docs/control-plane.md). ECDSA P-256 CA, the primary's server
 * certificate and one client certificate per secondary; `--add-secondary` issues more from an existing CA.
 */

import { resolve } from "node:path";
import { lbctlCommand } from "./common.ts";
import { CliError, UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput } from "./output.ts";

/** Every value of a repeatable option (citty keeps only the last). */
function repeated(rawArgs: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === `--${name}` && rawArgs[i + 1] !== undefined) values.push(rawArgs[++i]!);
    else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  }
  return values;
}

export default lbctlCommand({
  meta: { name: "certs", description: "Write the control plane's CA, server and client certificates (ECDSA P-256)" },
  args: {
    "output-dir": { type: "string", description: "Folder for ca.crt/.key, server.crt/.key and the client certificates", valueHint: "DIR" },
    primary: { type: "string", description: "CN of the primary's server certificate (default primary)", valueHint: "NAME" },
    "primary-address": { type: "string", description: "IP or DNS name of the primary, as a SAN (repeatable; required unless --add-secondary)", valueHint: "ADDR" },
    secondary: { type: "string", description: "Issue client-NAME.crt/.key for this secondary (repeatable; default: client.crt with CN secondary)", valueHint: "NAME" },
    "add-secondary": { type: "string", description: "Issue client-NAME.crt/.key from the existing ca.crt/ca.key in the folder (repeatable)", valueHint: "NAME" },
    days: { type: "string", description: "Validity of the server and client certificates in days (default 825; the CA gets 3650)", valueHint: "N" },
    force: { type: "boolean", description: "Replace existing files" },
  },
  async run({ args, rawArgs }) {
    const out = createOutput({ debug: args.debug });
    if (!args["output-dir"]) throw new UsageError("--output-dir is required");
    const days = args.days === undefined ? 825 : Number(args.days);
    const outputDir = resolve(args["output-dir"]);
    const { writeCerts } = await import("../controlplane/certs/write.ts");
    const { CertsPlanError } = await import("../controlplane/certs/plan.ts");
    try {
      const written = await writeCerts(
        outputDir,
        {
          primary: args.primary || "primary",
          primaryAddresses: repeated(rawArgs, "primary-address"),
          secondaries: repeated(rawArgs, "secondary"),
          addSecondaries: repeated(rawArgs, "add-secondary"),
          days,
        },
        Boolean(args.force),
      );
      for (const file of written) out.print(`wrote ${file.path} (mode ${file.mode.toString(8).padStart(4, "0")})`);
    } catch (error) {
      if (error instanceof CertsPlanError) throw new UsageError(error.message);
      throw new CliError(`Cannot write the certificates to ${outputDir}: ${(error as Error).message}`, ExitCode.failed);
    }
    return ExitCode.ok;
  },
});
