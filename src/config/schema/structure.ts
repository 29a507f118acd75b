/** Mappings and lists with messages that say what is allowed; an unknown key is an error with a "did you mean". */

import * as v from "valibot";
import { suggestKey } from "../suggest.ts";
import { quoted } from "../printable.ts";
import { describe } from "./primitives.ts";

export function section<const E extends v.ObjectEntries>(entries: E, description?: string) {
  const keys = Object.keys(entries);
  const schema = v.strictObject(entries, (issue) => {
    if (issue.expected === "never") {
      const key = String(issue.input);
      const suggestion = suggestKey(key, keys);
      const hint = suggestion ? `did you mean "${suggestion}"? ` : "";
      return `unknown key ${quoted(key)}: ${hint}allowed keys are ${keys.join(", ")}`;
    }
    if (issue.expected?.startsWith('"')) return `${issue.expected} is required`;
    return `must be a mapping of key: value, got ${describe(issue.input)}`;
  });
  return description ? v.pipe(schema, v.description(description)) : schema;
}

export function list<const T extends v.GenericSchema>(item: T, description?: string) {
  const schema = v.array(item, (issue) => `must be a list, got ${describe(issue.input)}`);
  return description ? v.pipe(schema, v.description(description)) : schema;
}
