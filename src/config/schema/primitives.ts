/**
 * Leaf schemas with operator-facing messages. Every leaf accepts the value YAML produced or an `EnvValue` (a scalar
 * that was exactly `${NAME}`), converting the latter where the key wants a number or a boolean.
 */

import * as v from "valibot";
import { EnvValue } from "../document.ts";
import { parseIp } from "../ip.ts";
import { quoted } from "../printable.ts";
import { caseInsensitivePattern, ENV_REFERENCE, registerJsonSchema } from "./json.ts";
import { registerConversion, UNCOMMON } from "./quick-run.ts";
import type { JsonSchema } from "@valibot/to-json-schema";

export type Conversion<T> = { value: T } | { error: string };

/**
 * `direct` (optional) converts the common forms alone, returning the value itself, or UNCOMMON for anything else:
 * it must give exactly `convert`'s value wherever it gives one (tests/config/quick-run.test.ts compares them).
 */
export function leaf<T>(convert: (input: unknown) => Conversion<T>, json: JsonSchema, direct?: (input: unknown) => T | typeof UNCOMMON) {
  // The converter hands pipelines' first schema to overrideSchema, so the JSON form is registered on that one.
  const input = registerJsonSchema(v.unknown(), json);
  const transform = v.rawTransform<unknown, T>(({ dataset, addIssue, NEVER }) => {
    const result = convert(dataset.value);
    if ("error" in result) {
      addIssue({ message: result.error });
      return NEVER;
    }
    return result.value;
  });
  const schema = v.pipe(input, transform);
  // What the pipeline above does, in one step: a config of thousands of services runs hundreds of thousands of
  // leaves, and the pipeline's generic walk and the transform's context object per value were most of their cost.
  // The pipeline stays the schema's shape (for the JSON Schema and the types); only its run is this one.
  type Dataset = { value: unknown; typed?: boolean; issues?: unknown };
  type Run = (dataset: Dataset, config: v.Config<v.BaseIssue<unknown>>) => Dataset;
  (schema as unknown as { "~run": Run })["~run"] = (dataset, config) => {
    const result = convert(dataset.value);
    if ("error" in result) {
      v._addIssue(transform, "input", dataset as v.UnknownDataset, config, { message: result.error });
      dataset.typed = false;
    } else {
      dataset.typed = true;
      dataset.value = result.value;
    }
    return dataset;
  };
  registerConversion(schema, convert, direct);
  return schema;
}

export function describe(input: unknown): string {
  if (input instanceof EnvValue) return `${quoted(input.text)} (from \${${input.variable}})`;
  if (input === undefined) return "nothing";
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a mapping";
  return typeof input === "string" ? quoted(input) : String(input);
}

export interface IntegerOptions {
  multipleOf?: number;
  /** Value that stands for the default (Go compatibility: 0 means "the default" for some keys). */
  zeroMeans?: number;
  /** Appended to the range message, e.g. why a value is reserved. */
  hint?: string;
  description?: string;
}

export function integer(min: number, max: number, options: IntegerOptions = {}) {
  const { multipleOf, zeroMeans, hint, description } = options;
  const expected =
    `an integer from ${min} to ${max}` + (multipleOf ? `, a multiple of ${multipleOf}` : "") + (zeroMeans !== undefined ? ` (0 means ${zeroMeans})` : "");
  const json: JsonSchema = {
    anyOf: [
      {
        type: "integer",
        ...(zeroMeans !== undefined ? { anyOf: [{ const: 0 }, { minimum: min, maximum: max }] } : { minimum: min, maximum: max }),
        ...(multipleOf ? { multipleOf } : {}),
      },
      ENV_REFERENCE,
    ],
    ...(description ? { description } : {}),
  };
  return leaf<number>((input) => {
    let value: number;
    if (typeof input === "number") value = input;
    else if (input instanceof EnvValue && /^[+-]?\d+$/.test(input.text.trim())) value = Number(input.text.trim());
    else return { error: `must be ${expected}, got ${describe(input)}` };
    if (value === 0 && zeroMeans !== undefined) return { value: zeroMeans };
    if (!Number.isInteger(value) || value < min || value > max || (multipleOf && value % multipleOf !== 0)) {
      return { error: `must be ${expected}, got ${describe(input)}${hint ? `: ${hint}` : ""}` };
    }
    return { value };
  }, json, multipleOf === undefined ? (input) => (typeof input === "number" && Number.isInteger(input) && input >= min && input <= max && (input !== 0 || zeroMeans === undefined) ? input : UNCOMMON) : undefined);
}

const TRUE_WORDS = ["true", "yes", "on"] as const;
const FALSE_WORDS = ["false", "no", "off"] as const;

/**
 * Booleans; also yes/no/on/off in any case (YAML 1.1 spellings, which YAML 1.2 parsers hand over as strings), as the
 * Go LibraFlux's YAML decoder accepted them for boolean keys.
 */
export function boolean(description?: string) {
  return leaf<boolean>(
    (input) => {
      if (typeof input === "boolean") return { value: input };
      const word = typeof input === "string" || input instanceof EnvValue ? String(input).trim().toLowerCase() : undefined;
      if (word !== undefined && (TRUE_WORDS as readonly string[]).includes(word)) return { value: true };
      if (word !== undefined && (FALSE_WORDS as readonly string[]).includes(word)) return { value: false };
      return { error: `must be true or false (or yes/no, on/off), got ${describe(input)}` };
    },
    {
      anyOf: [{ type: "boolean" }, { type: "string", pattern: caseInsensitivePattern([...TRUE_WORDS, ...FALSE_WORDS], false) }, ENV_REFERENCE],
      ...(description ? { description } : {}),
    },
    (input) => (typeof input === "boolean" ? input : UNCOMMON),
  );
}

export function asText(input: unknown): string | undefined {
  if (typeof input === "string") return input;
  if (input instanceof EnvValue) return input.text;
  if (typeof input === "number" && Number.isFinite(input)) return String(input);
  return undefined;
}

export interface TextOptions {
  pattern?: RegExp;
  /** Completes "must be ..." when the pattern does not match. */
  expected?: string;
  allowEmpty?: boolean;
  /** What an empty string stands for (Go compatibility: empty means the default). */
  emptyMeans?: string;
  check?: (text: string) => string | undefined;
  /**
   * Whether a YAML number is read as its decimal text (`name: 2024`), as the Go LibraFlux read it. Default: only for
   * free text (no pattern). Off where digits are data whose spelling matters (hex bytes, globs, paths).
   */
  numbers?: boolean;
  description?: string;
}

export function text(options: TextOptions = {}) {
  const { pattern, expected = "a string", allowEmpty = true, emptyMeans, check, description } = options;
  const numbers = options.numbers ?? pattern === undefined;
  const stringJson: JsonSchema = {
    type: "string",
    ...(pattern ? { pattern: emptyMeans !== undefined ? `^$|${pattern.source}` : pattern.source } : {}),
    ...(!allowEmpty && emptyMeans === undefined ? { minLength: 1 } : {}),
  };
  const alternatives: JsonSchema[] = [stringJson, ...(numbers ? [{ type: "number" } as JsonSchema] : []), ...(pattern ? [ENV_REFERENCE] : [])];
  const json: JsonSchema = alternatives.length === 1 ? stringJson : { anyOf: alternatives };
  return leaf<string>(
    (input) => {
      if (typeof input === "number" && !numbers) return { error: `must be ${expected} in quotes, got the number ${describe(input)}` };
      const value = asText(input);
      if (value === undefined) return { error: `must be ${expected}, got ${describe(input)}` };
      if (value === "" && emptyMeans !== undefined) return { value: emptyMeans };
      if (value === "" && !allowEmpty) return { error: `must not be empty: ${expected}` };
      if (pattern && !pattern.test(value)) return { error: `must be ${expected}, got ${describe(input)}` };
      const problem = check?.(value);
      return problem ? { error: problem } : { value };
    },
    description ? { ...json, description } : json,
    check === undefined ? (input) => (typeof input === "string" && input !== "" && (pattern === undefined || pattern.test(input)) ? input : UNCOMMON) : undefined,
  );
}

/** Case-insensitive choice; an empty string means the default (both kept from the Go LibraFlux). */
export function choice<const T extends string>(values: readonly T[], fallback: T, description?: string) {
  return choiceOrUnset(values, fallback, description) as ReturnType<typeof leaf<T>>;
}

/** Like `choice`, for keys whose absence means "inherit": an empty string yields undefined. */
export function choiceOrUnset<const T extends string>(values: readonly T[], fallback: T | undefined, description?: string) {
  return leaf<T | undefined>(
    (input) => {
      const raw = asText(input);
      const value = raw?.trim().toLowerCase();
      if (value === "") return { value: fallback };
      if (value !== undefined && (values as readonly string[]).includes(value)) return { value: value as T };
      return { error: `must be one of ${values.join(", ")}, got ${describe(input)}` };
    },
    {
      anyOf: [{ type: "string", pattern: caseInsensitivePattern(values, true) }, ENV_REFERENCE],
      ...(description ? { description } : {}),
    },
    // A value written exactly as listed (the usual case) is its own trimmed, lower-case form.
    values.every((value) => value !== "" && value === value.trim().toLowerCase())
      ? (input) => (typeof input === "string" && (values as readonly string[]).includes(input) ? (input as T) : UNCOMMON)
      : undefined,
  );
}

/** A dotted quad as `isDottedQuad` takes it (0-255 each, no leading zero), for the common case of `ipAddress`. */
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

/** An IPv4 or IPv6 address, returned in canonical text form so the same address always compares equal. */
export function ipAddress(description?: string) {
  return leaf<string>(
    (input) => {
      const raw = asText(input)?.trim();
      const parsed = raw === undefined ? undefined : parseIp(raw);
      return parsed ? { value: parsed.text } : { error: `must be an IPv4 or IPv6 address, got ${describe(input)}` };
    },
    { anyOf: [{ type: "string", format: "ipv4" }, { type: "string", format: "ipv6" }, ENV_REFERENCE], ...(description ? { description } : {}) },
    // A dotted quad is its own canonical text (parseIp), with nothing to trim; found by a native search first.
    (input) => (typeof input === "string" && CANONICAL_IPV4.test(input) ? input : UNCOMMON),
  );
}

/** `ADDR:PORT`, `[V6]:PORT`, or a bare address (port 0: the service's port). */
export function endpoint(description?: string) {
  const expected = "ADDR:PORT, [IPv6]:PORT, or an address alone (the service's ports)";
  return leaf<{ address: string; port: number }>(
    (input) => {
      const raw = asText(input)?.trim();
      if (raw === undefined) return { error: `must be ${expected}, got ${describe(input)}` };
      const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(raw);
      const v4 = /^([0-9.]+):(\d{1,5})$/.exec(raw);
      const [address, port] = bracketed ? [bracketed[1]!, bracketed[2]] : v4 ? [v4[1]!, v4[2]] : [raw, undefined];
      const parsed = parseIp(address);
      const portNumber = port === undefined ? 0 : Number(port);
      if (!parsed || portNumber > 65535 || (port !== undefined && portNumber < 1)) return { error: `must be ${expected}, got ${describe(input)}` };
      return { value: { address: parsed.text, port: portNumber } };
    },
    { anyOf: [{ type: "string", pattern: "^(\\[[0-9A-Fa-f:.]+\\](:\\d{1,5})?|[0-9.]+(:\\d{1,5})?|[0-9A-Fa-f:.]+)$" }, ENV_REFERENCE], ...(description ? { description } : {}) },
  );
}

const INTERFACE_NAME = /^[A-Za-z0-9_.@-]{1,15}$/;

export function interfaceName(description?: string) {
  return text({
    pattern: INTERFACE_NAME,
    expected: "a Linux interface name: 1-15 characters of A-Z a-z 0-9 _ . @ -",
    allowEmpty: false,
    numbers: true,
    ...(description ? { description } : {}),
  });
}

export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export function objectName(description?: string) {
  return text({
    pattern: NAME_PATTERN,
    expected: "1-64 characters of A-Z a-z 0-9 _ . -",
    allowEmpty: false,
    numbers: true,
    ...(description ? { description } : {}),
  });
}
