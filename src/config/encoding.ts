/**
 * Config files are UTF-8. A file saved as UTF-16 or UTF-32 (Windows editors, PowerShell's `>`), or in a legacy
 * 8-bit encoding, is named as such, with the way to convert it, instead of reaching the YAML parser as mojibake.
 */

export type Decoded = { ok: true; text: string } | { ok: false; line: number; column: number; message: string };

const MUST_BE_UTF8 = "config files must be UTF-8";

export function decodeConfigText(bytes: Uint8Array): Decoded {
  const wide = wideEncoding(bytes);
  if (wide) {
    return { ok: false, line: 0, column: 0, message: `is ${wide} text: ${MUST_BE_UTF8} (convert it: iconv -f ${wide.split(" ")[0]} -t UTF-8 FILE > FILE.new)` };
  }
  const text = strictUtf8(bytes);
  const nul = bytes.indexOf(0);
  const bad = text === undefined ? (firstInvalidUtf8(bytes) ?? 0) : nul >= 0 ? nul : undefined;
  if (bad !== undefined) {
    const { line, column } = lineAndColumn(bytes, bad);
    const byte = bytes[bad]!;
    const what = byte === 0 ? "a NUL byte" : `the byte 0x${byte.toString(16).toUpperCase().padStart(2, "0")}, which is not valid UTF-8`;
    const hint = byte === 0 ? "; it is not a text file" : " (convert it, e.g. from Latin-1: iconv -f LATIN1 -t UTF-8 FILE > FILE.new)";
    return { ok: false, line, column, message: `holds ${what}: ${MUST_BE_UTF8}${hint}` };
  }
  // A UTF-8 byte order mark is harmless and kept: both YAML parsers skip it.
  return { ok: true, text: text! };
}

function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** "UTF-16 (little-endian)" etc. when the file starts with that byte order mark or the NUL pattern of ASCII text in it. */
function wideEncoding(bytes: Uint8Array): string | undefined {
  const [a, b, c, d] = [bytes[0], bytes[1], bytes[2], bytes[3]];
  if (a === 0xff && b === 0xfe && c === 0 && d === 0) return "UTF-32LE (little-endian)";
  if (a === 0 && b === 0 && c === 0xfe && d === 0xff) return "UTF-32BE (big-endian)";
  if (a === 0xff && b === 0xfe) return "UTF-16LE (little-endian)";
  if (a === 0xfe && b === 0xff) return "UTF-16BE (big-endian)";
  if (bytes.length < 4) return undefined;
  // No mark: ASCII characters written in a wide encoding leave NULs in a fixed place of every unit.
  if (a !== 0 && b === 0 && c === 0 && d === 0) return "UTF-32LE (little-endian)";
  if (a === 0 && b === 0 && c === 0 && d !== 0) return "UTF-32BE (big-endian)";
  if (a !== 0 && b === 0 && c !== 0 && d === 0) return "UTF-16LE (little-endian)";
  if (a === 0 && b !== 0 && c === 0 && d !== 0) return "UTF-16BE (big-endian)";
  return undefined;
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence, or a NUL (only run on a bad file). */
function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  for (let i = 0; i < bytes.length; ) {
    const byte = bytes[i]!;
    if (byte === 0) return i;
    if (byte < 0x80) {
      i++;
      continue;
    }
    const length = byte >= 0xc2 && byte <= 0xdf ? 2 : byte >= 0xe0 && byte <= 0xef ? 3 : byte >= 0xf0 && byte <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    const second = bytes[i + 1]!;
    // The second byte's range excludes overlong forms, surrogates and code points above U+10FFFF.
    const low = byte === 0xe0 ? 0xa0 : byte === 0xf0 ? 0x90 : 0x80;
    const high = byte === 0xed ? 0x9f : byte === 0xf4 ? 0x8f : 0xbf;
    if (second < low || second > high) return i;
    for (let k = 2; k < length; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += length;
  }
  return undefined;
}

function lineAndColumn(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
