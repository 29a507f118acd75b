/** JSON Schema fragments for the custom leaf schemas, which @valibot/to-json-schema cannot derive from transforms. */

import type { JsonSchema } from "@valibot/to-json-schema";

const registry = new WeakMap<object, JsonSchema>();

export function registerJsonSchema<T extends object>(schema: T, json: JsonSchema): T {
  registry.set(schema, json);
  return schema;
}

export function registeredJsonSchema(schema: object): JsonSchema | undefined {
  return registry.get(schema);
}

/** What a `${NAME}` reference looks like, so editors accept it wherever a number or boolean is expected. */
export const ENV_REFERENCE: JsonSchema = {
  type: "string",
  pattern: "^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$",
  description: "An environment variable reference, expanded when lbctl loads the file",
};

/** `^(?:[nN][aA][tT]|...)$`: JSON Schema regexes have no case-insensitive flag. */
export function caseInsensitivePattern(values: readonly string[], allowEmpty: boolean): string {
  const alternatives = values.map((value) =>
    [...value]
      .map((ch) => (ch.toLowerCase() !== ch.toUpperCase() ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : escapeRegex(ch)))
      .join(""),
  );
  if (allowEmpty) alternatives.push("");
  return `^(?:${alternatives.join("|")})$`;
}

function escapeRegex(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}
