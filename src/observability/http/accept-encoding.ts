/**
 * Whether an `Accept-Encoding` header (RFC 9110 §12.5.3) accepts gzip: listed as `gzip` (or `x-gzip`), or covered
 * by `*`, with a quality above 0. Prometheus sends `Accept-Encoding: gzip`; no header means identity.
 */
export function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const item of header.split(",")) {
    const [coding = "", ...parameters] = item.split(";").map((part) => part.trim().toLowerCase());
    const q = quality(parameters);
    if (coding === "gzip" || coding === "x-gzip") gzip = Math.max(gzip ?? 0, q);
    else if (coding === "*") any = q;
  }
  return (gzip ?? any ?? 0) > 0;
}

/** The `q` parameter: 1 when absent, 0 when not a number (a garbled header never forces compression). */
function quality(parameters: readonly string[]): number {
  for (const parameter of parameters) {
    const [name = "", value = ""] = parameter.split("=").map((part) => part.trim());
    if (name !== "q") continue;
    const q = /^[0-9.]+$/.test(value) ? Number(value) : Number.NaN;
    return Number.isFinite(q) ? q : 0;
  }
  return 1;
}
