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

/**
 * `^\s*(?:[nN][aA][tT]|...)\s*$`: JSON Schema regexes have no case-insensitive flag; lbctl trims these values.
 */
export function caseInsensitivePattern(values: readonly string[], allowEmpty: boolean): string {
  const alternatives = values.map((value) =>
    [...value]
      .map((ch) => (ch.toLowerCase() !== ch.toUpperCase() ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : escapeRegex(ch)))
      .join(""),
  );
  if (allowEmpty) alternatives.push("");
  return `^\\s*(?:${alternatives.join("|")})\\s*$`;
}

function escapeRegex(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/** 1-65535 in at most 5 digits (leading zeros allowed), as lbctl reads a port inside a string. */
export const PORT_PATTERN =
  "(?:0{0,4}[1-9]|0{0,3}[1-9]\\d|0{0,2}[1-9]\\d{2}|0?[1-9]\\d{3}|[1-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])";

/** 100-599, as lbctl reads a status code inside a string. */
export const STATUS_PATTERN = "[1-5]\\d{2}";
