/** JSON Schema (draft 2020-12) of the main file and of a service file, generated from the valibot schemas. */

import { toJsonSchema, type JsonSchema } from "@valibot/to-json-schema";
import type * as v from "valibot";
import { registeredJsonSchema } from "./schema/json.ts";
import { MainFileSchema } from "./schema/main.ts";
import { ServiceFileSchema } from "./schema/service.ts";

export type SchemaKind = "main" | "service";

const TITLES: Record<SchemaKind, string> = {
  main: "lbctl main configuration (/etc/lbctl/config.yaml)",
  service: "lbctl service file (/etc/lbctl/config.d/*.yaml)",
};

export function configJsonSchema(kind: SchemaKind): JsonSchema {
  const schema: v.GenericSchema = kind === "main" ? MainFileSchema : ServiceFileSchema;
  const json = toJsonSchema(schema, {
    target: "draft-2020-12",
    typeMode: "input",
    // Transforms (defaults resolved from other keys) have no JSON Schema form; the leaves are registered explicitly.
    errorMode: "ignore",
    overrideSchema: (context) => registeredJsonSchema(context.valibotSchema),
  });
  const body = allowNullOptionals(json) as Record<string, unknown>;
  // An empty service file (or one holding only comments) is allowed: YAML reads it as null.
  if (kind === "service") body.type = ["object", "null"];
  return { $schema: json.$schema, $id: `https://libraflux.dev/schema/lbctl-${kind}.json`, title: TITLES[kind], ...body } as JsonSchema;
}

/** `key:` with no value means "the default" to lbctl, so editors must accept null for every optional key. */
function allowNullOptionals(schema: JsonSchema): JsonSchema {
  if (Array.isArray(schema)) return schema.map(allowNullOptionals) as unknown as JsonSchema;
  if (schema === null || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    out[key] = typeof value === "object" && value !== null ? allowNullOptionals(value as JsonSchema) : value;
  }
  const properties = out.properties as Record<string, JsonSchema> | undefined;
  if (properties && typeof properties === "object") {
    const required = new Set((out.required as string[] | undefined) ?? []);
    for (const [key, property] of Object.entries(properties)) {
      if (!required.has(key)) properties[key] = { anyOf: [property, { type: "null" }] };
    }
  }
  return out as JsonSchema;
}
