/** `lbctl schema [main|service]`: the JSON Schema (draft 2020-12) of a config file, for editors. */

import { configJsonSchema, type SchemaKind } from "../config/json-schema.ts";
import { lbctlCommand } from "./common.ts";
import { UsageError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { createOutput } from "./output.ts";

export default lbctlCommand({
  meta: { name: "schema", description: "Print the JSON Schema of the main file (default) or of a service file" },
  args: {
    kind: { type: "positional", description: "main | service", required: false, default: "main" },
  },
  run({ args }) {
    const kind = String(args.kind);
    if (kind !== "main" && kind !== "service") throw new UsageError(`Unknown schema "${kind}": use main or service`);
    createOutput().json(configJsonSchema(kind as SchemaKind));
    return ExitCode.ok;
  },
});
