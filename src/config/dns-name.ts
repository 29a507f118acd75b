/**
 * DNS names in wire form (RFC 1035 §3.1): a sequence of labels of 1-63 bytes, each preceded by its length, ended by
 * a zero byte; at most 255 bytes in all. Pure; shared by the config rules (dns_query) and the DNS codec.
 */

export const MAX_LABEL = 63;
export const MAX_NAME_WIRE = 255;

/** Why `name` cannot be queried, or undefined. A trailing dot (the root) is allowed; `.` alone is the root. */
export function dnsNameProblem(name: string): string | undefined {
  if (!/^[\x21-\x7e]+$/.test(name)) return "a DNS name may only contain visible ASCII characters (use the xn-- form for other names)";
  if (name === ".") return undefined;
  const labels = (name.endsWith(".") ? name.slice(0, -1) : name).split(".");
  let wire = 1;
  for (const label of labels) {
    if (label.length === 0) return "a DNS name must not contain empty labels (two dots in a row, or a leading dot)";
    if (label.length > MAX_LABEL) return `a DNS label has at most ${MAX_LABEL} characters, "${label.slice(0, 20)}…" has ${label.length}`;
    wire += label.length + 1;
  }
  if (wire > MAX_NAME_WIRE) return `a DNS name has at most 253 characters, this one has ${name.length}`;
  return undefined;
}

/** Labels of a name that dnsNameProblem accepts. */
export function dnsLabels(name: string): string[] {
  if (name === "." || name === "") return [];
  return (name.endsWith(".") ? name.slice(0, -1) : name).split(".");
}
