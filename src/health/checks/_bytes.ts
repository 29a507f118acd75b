/** Byte helpers shared by the checks: comparing, joining, and showing received bytes to an operator. */

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Hex digits, two per byte; the config validated them already (schema/health.ts). */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

const PREVIEW_BYTES = 48;

/**
 * Received bytes as a reason may show them: quoted text when every byte is printable ASCII, hex otherwise; at most
 * PREVIEW_BYTES bytes, so that a hostile or broken backend cannot flood logs and audit records.
 */
export function preview(bytes: Uint8Array): string {
  const shown = bytes.subarray(0, PREVIEW_BYTES);
  const more = bytes.length > PREVIEW_BYTES ? "…" : "";
  const printable = shown.every((b) => b >= 0x20 && b < 0x7f);
  if (printable) return `"${String.fromCharCode(...shown).replaceAll("\\", "\\\\").replaceAll('"', '\\"')}${more}"`;
  return `0x${Buffer.from(shown).toString("hex")}${more}`;
}

/** Text from the network as a reason may show it: control and non-ASCII characters replaced, at most 80 kept. */
export function printable(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}
