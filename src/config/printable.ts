/**
 * Text from input (config values, keys, file names, arguments, daemon replies) made safe to put in a message for a
 * terminal: characters a terminal acts on are shown as escapes instead (ESC ] 0 ; ... BEL would retitle the window,
 * ESC [ 31 m recolour it, U+202E reorder the line), and a value too long to read is cut, saying how long it was.
 */

/** Characters of one value shown in a message; a host name or a pattern fits, a pasted file does not. */
export const MAX_VALUE_CHARS = 200;
/** Characters of one whole message line, a bound for messages that embed several values. */
export const MAX_MESSAGE_CHARS = 2000;

// C0 controls, DEL, C1 controls (U+009B is CSI on some terminals), line and paragraph separators, the bidi
// embeddings, overrides and isolates, and lone surrogates (binary garbage).
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const UNSAFE_EXCEPT_LAYOUT =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\u001b": "\\e" };

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `text` with every character a terminal acts on written as an escape (`\e`, `\x07`, `\u202e`), cut past `max`
 * characters with a marker giving the full length. Newlines and tabs are escaped too unless `newlines` is "keep"
 * (for multi-line text lbctl itself laid out: a table, a diff).
 */
export function printable(text: string, options: { max?: number; newlines?: "escape" | "keep" } = {}): string {
  const max = options.max ?? MAX_MESSAGE_CHARS;
  const shown = text.length > max ? text.slice(0, cutPoint(text, max)) : text;
  const escaped = shown.replace(options.newlines === "keep" ? UNSAFE_EXCEPT_LAYOUT : UNSAFE, escapeChar);
  return shown.length < text.length ? `${escaped}… [cut: ${text.length} characters in all]` : escaped;
}

/** A string value quoted for a message: `"web"`, escaped and cut like `printable`. */
export function quoted(value: string, max = MAX_VALUE_CHARS): string {
  if (value.length <= max) return `"${printable(value, { max })}"`;
  return `"${printable(value.slice(0, cutPoint(value, max)), { max })}…" (${value.length} characters, cut)`;
}

/** Does not split a surrogate pair, which would leave half a character. */
function cutPoint(text: string, max: number): number {
  const code = text.charCodeAt(max - 1);
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
}
