/**
 * `${NAME}` expansion inside one scalar value. It runs after YAML parsing, so a value can never inject YAML and
 * comments are never expanded (the Go LibraFlux did both, which broke its own example config).
 */

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const WHOLE_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

export type Environment = Readonly<Record<string, string | undefined>>;

export type Expansion =
  | { ok: true; value: string; changed: boolean }
  | { ok: false; message: string };

export function expandEnv(text: string, env: Environment): Expansion {
  if (!text.includes("$")) return { ok: true, value: text, changed: false };
  const unset: string[] = [];
  const malformed: string[] = [];
  let changed = false;
  const value = text.replace(REFERENCE, (match, name: string | undefined) => {
    changed = true;
    if (match === "$${") return "${";
    if (name === undefined || !VARIABLE_NAME.test(name)) {
      malformed.push(match);
      return match;
    }
    const resolved = env[name];
    if (resolved === undefined) {
      unset.push(name);
      return match;
    }
    return resolved;
  });
  if (malformed.length > 0) {
    return {
      ok: false,
      message: `${malformed[0]} is not a valid variable reference: names match [A-Za-z_][A-Za-z0-9_]* (write $\${ for a literal \${)`,
    };
  }
  if (unset.length > 0) {
    const names = [...new Set(unset)];
    const lowercase = names.some((n) => n !== n.toUpperCase())
      ? " (lbctl expands any ${name}; the Go LibraFlux left lower-case names unexpanded)"
      : "";
    const list = names.map((n) => `\${${n}}`).join(", ");
    return { ok: false, message: `environment variable ${list} is not set${lowercase}` };
  }
  return { ok: true, value, changed };
}

/** The variable name when the whole scalar is one reference (`${X}`), which may then become a number or boolean. */
export function wholeReference(text: string): string | undefined {
  return WHOLE_REFERENCE.exec(text)?.[1];
}
