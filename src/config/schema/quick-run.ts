/**
 * A schema's run for input that has no problem: the same output as valibot's `safeParse`, or INVALID as soon as
 * anything would be an issue (the caller then runs valibot, which words and places every issue). A config of 5,000
 * services is 25,000 mappings: valibot's generic walk (a dataset object per value, issue bookkeeping, the schema's
 * shape looked up again for each mapping) was a third of its load. This runner is built once per schema from its
 * shape, and knows the parts the config schemas are made of (strict mappings, lists, optional keys with literal
 * defaults, the conversion leaves, pipes of one schema and metadata); any other part is run by valibot itself, so
 * its output is valibot's by construction. tests/config/quick-run.test.ts compares both on mutated configs.
 */

import type * as v from "valibot";

/** What the quick run returns when valibot would report an issue (or might: the runner does not tell which). */
export const INVALID: unique symbol = Symbol("invalid");

export type QuickRun<T> = (input: unknown) => T | typeof INVALID;

type Conversion = (input: unknown) => { value: unknown } | { error: string };
/** A leaf's conversion of its common forms, returning the value itself; UNCOMMON sends the input to `Conversion`. */
type Direct = (input: unknown) => unknown;

/** What a leaf's direct conversion returns for an input it leaves to the full conversion. */
export const UNCOMMON: unique symbol = Symbol("uncommon");
type Run = (input: unknown) => unknown;
type Dataset = { value: unknown; typed?: boolean; issues?: unknown };

/** The schema objects of the leaves built by `leaf` (primitives.ts), with their conversion. */
const conversions = new WeakMap<object, { convert: Conversion; direct: Direct | undefined }>();

/**
 * `direct`, when given, must return what `convert` gives as its value, or UNCOMMON: thousands of services run
 * hundreds of thousands of leaves, and the common forms (a port number, a dotted quad) then need no result object.
 */
export function registerConversion(schema: object, convert: Conversion, direct?: Direct): void {
  conversions.set(schema, { convert, direct });
}

export function quickRun<S extends v.GenericSchema>(schema: S): QuickRun<v.InferOutput<S>> {
  return build(schema as unknown as SchemaShape) as QuickRun<v.InferOutput<S>>;
}

/** The parts of a valibot schema object this runner reads. */
interface SchemaShape {
  kind: string;
  type: string;
  "~run": (dataset: Dataset, config: v.Config<v.BaseIssue<unknown>>) => Dataset;
  pipe?: SchemaShape[];
  entries?: Record<string, SchemaShape>;
  item?: SchemaShape;
  wrapped?: SchemaShape;
  default?: unknown;
  fallback?: unknown;
}

/** Sets of keys remembered per strict mapping: real files have a handful per kind of mapping. */
const MAX_PLANS = 256;

const OPTIONAL_TYPES = new Set(["optional", "exact_optional", "nullish"]);

function build(schema: SchemaShape): Run {
  const conversion = conversions.get(schema);
  if (conversion) {
    const { convert, direct } = conversion;
    const full: Run = (input) => {
      const result = convert(input);
      return "error" in result ? INVALID : result.value;
    };
    if (direct === undefined) return full;
    return (input) => {
      const value = direct(input);
      return value === UNCOMMON ? full(input) : value;
    };
  }
  if (schema.pipe) {
    const [first, ...actions] = schema.pipe;
    return first !== undefined && actions.every((action) => action.kind === "metadata") ? build(first) : valibotRun(schema);
  }
  if (schema.type === "strict_object" && schema.entries) return strictObject(schema, schema.entries);
  if (schema.type === "array" && schema.item) return array(build(schema.item));
  if (schema.type === "optional" && schema.wrapped && typeof schema.default !== "function") {
    return optional(build(schema.wrapped), schema.default);
  }
  return valibotRun(schema);
}

/** valibot's own run of a part this runner does not model: its output when it reports nothing. */
function valibotRun(schema: SchemaShape): Run {
  const config = { abortEarly: false } as v.Config<v.BaseIssue<unknown>>;
  return (input) => {
    const dataset = schema["~run"]({ value: input }, config);
    return dataset.issues || !dataset.typed ? INVALID : dataset.value;
  };
}

function optional(wrapped: Run, fallback: unknown): Run {
  const ofDefault = isScalar(fallback) ? wrapped(fallback) : undefined;
  if (ofDefault !== undefined && isScalar(ofDefault)) {
    // A scalar default (`port: 0`, `weight: 1`) that converts to a scalar gives the same output every time (leaves
    // are pure): worked out once here. One that converts to an object is converted per use (a fresh object each).
    return (input) => (input === undefined ? ofDefault : wrapped(input));
  }
  return (input) => {
    const value = input === undefined ? fallback : input;
    return value === undefined ? undefined : wrapped(value);
  };
}

function array(item: Run): Run {
  return (input) => {
    if (!Array.isArray(input)) return INVALID;
    const output: unknown[] = [];
    for (let i = 0; i < input.length; i++) {
      const value = item(input[i]);
      if (value === INVALID) return INVALID;
      output.push(value);
    }
    return output;
  };
}

interface Entry {
  key: string;
  run: Run;
  /** valibot runs an absent key's schema with this default (undefined: the key stays absent, or is required). */
  whenAbsent: unknown;
  required: boolean;
}

/**
 * valibot's strict object: every key of the schema in its order (an absent optional key with a default gets the
 * default's output, one without stays absent, a missing required key is an issue), then no key outside the schema.
 */
function strictObject(schema: SchemaShape, entries: Record<string, SchemaShape>): Run {
  const list: Entry[] = [];
  for (const key in entries) {
    const entry = entries[key]!;
    // valibot reads an absent key's default without a dataset; a default computed from one is left to valibot.
    if (entry.fallback !== undefined || typeof entry.default === "function") return valibotRun(schema);
    const optional = OPTIONAL_TYPES.has(entry.type);
    list.push({ key, run: build(entry), whenAbsent: optional ? entry.default : undefined, required: !optional });
  }
  // The schema's keys in an object without a prototype: a lookup, not a call per key (Object.hasOwn).
  const known: Record<string, true> = Object.create(null);
  for (const key in entries) if (Object.hasOwn(entries, key)) known[key] = true;
  let ofEmpty: Record<string, unknown> | undefined;
  const viaIn = (object: Record<string, unknown>): unknown => {
    let keys = 0;
    for (const key in object) {
      if (known[key] !== true) return INVALID;
      keys++;
    }
    if (keys === 0 && ofEmpty !== undefined) return { ...ofEmpty };
    const output: Record<string, unknown> = {};
    for (let i = 0; i < list.length; i++) {
      const entry = list[i]!;
      const present = entry.key in object;
      if (!present && entry.whenAbsent === undefined) {
        if (entry.required) return INVALID;
        continue;
      }
      const value = entry.run(present ? object[entry.key] : entry.whenAbsent);
      if (value === INVALID) return INVALID;
      output[entry.key] = value;
    }
    return output;
  };
  // Thousands of mappings of one shape (services, backends) have the same keys: the keys present are noted as bits
  // of a number, and the entries to run for that set of keys (in the schema's order) are worked out once, instead
  // of asking for every key of the schema whether the mapping has it. The keys a pass over a mapping lists are
  // those `in` finds in parsed data (plain objects), as long as no key of the schema is also one of
  // Object.prototype's (`in` finds those, a pass over keys does not); other schemas take `viaIn`.
  const bitOf: Record<string, number> = Object.create(null);
  for (let i = 0; i < list.length; i++) bitOf[list[i]!.key] = 1 << i;
  const byKeySet = list.length <= 30 && list.every((entry) => !(entry.key in Object.prototype));
  /**
   * Per set of keys present: the entries to run, or null when a required one is absent. A memo of a pure function
   * of the set (the runner lives as long as the process: a daemon reloads many configs), bounded in size.
   */
  const plans = new Map<number, Entry[] | null>();
  const planFor = (present: number): Entry[] | null => {
    const steps: Entry[] = [];
    for (let i = 0; i < list.length; i++) {
      const entry = list[i]!;
      if ((present & (1 << i)) === 0 && entry.whenAbsent === undefined) {
        if (entry.required) return null;
        continue;
      }
      steps.push(entry);
    }
    return steps;
  };
  const run = (input: unknown): unknown => {
    if (input === null || typeof input !== "object" || Array.isArray(input)) return INVALID;
    const object = input as Record<string, unknown>;
    if (!byKeySet) return viaIn(object);
    let present = 0;
    for (const key in object) {
      const bit = bitOf[key];
      if (bit === undefined) return INVALID;
      present |= bit;
    }
    if (present === 0 && ofEmpty !== undefined) return { ...ofEmpty };
    let plan = plans.get(present);
    if (plan === undefined) {
      plan = planFor(present);
      if (plans.size < MAX_PLANS) plans.set(present, plan);
    }
    if (plan === null) return INVALID;
    const output: Record<string, unknown> = {};
    for (let i = 0; i < plan.length; i++) {
      const entry = plan[i]!;
      const value = entry.run((present & bitOf[entry.key]!) !== 0 ? object[entry.key] : entry.whenAbsent);
      if (value === INVALID) return INVALID;
      output[entry.key] = value;
    }
    return output;
  };
  // An absent mapping with a default (`health: {}` for every service without one) always gives the same defaults:
  // worked out once here, copied per use when they are all scalars (a fresh object each time, as valibot gives).
  const empty = run({});
  ofEmpty = isFlatObject(empty) ? (empty as Record<string, unknown>) : undefined;
  return run;
}

function isScalar(value: unknown): boolean {
  return value !== null && value !== undefined && typeof value !== "object" && typeof value !== "function";
}

function isFlatObject(value: unknown): boolean {
  if (value === INVALID || value === null || typeof value !== "object") return false;
  return Object.values(value).every((item) => item === null || typeof item !== "object");
}
