/** A growable byte buffer for the exposition: copying cached label bytes beats building and encoding strings. */

export class ByteWriter {
  #buffer: Uint8Array;
  #length = 0;
  /** Scratch space for the digits of an integer value (a safe integer has at most 16). */
  readonly #digits = new Uint8Array(16);

  constructor(initialBytes = 64 * 1024) {
    // Every byte is written before it is read: skip zero-filling (megabytes per scrape at scale).
    this.#buffer = Buffer.allocUnsafe(initialBytes);
  }

  #reserve(bytes: number): void {
    if (this.#length + bytes <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < this.#length + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
  }

  bytes(data: Uint8Array): void {
    this.#reserve(data.length);
    this.#buffer.set(data, this.#length);
    this.#length += data.length;
  }

  /** Text known to be ASCII (numbers, metric names): one byte per character, no encoder. */
  ascii(text: string): void {
    this.#reserve(text.length);
    for (let i = 0; i < text.length; i++) this.#buffer[this.#length++] = text.charCodeAt(i);
  }

  /** `<prefix><labels><suffix><value>`: one series line (prefix starts with its newline), reserved once. */
  line(prefix: Uint8Array, labels: Uint8Array, suffix: Uint8Array, value: number): void {
    // A number's text is at most 24 characters (e.g. -1.2345678901234567e-300).
    this.#reserve(prefix.length + labels.length + suffix.length + 32);
    const buffer = this.#buffer;
    let at = this.#length;
    // Byte loops: set() costs more than it copies for pieces this short (profiled).
    for (let i = 0; i < prefix.length; i++) buffer[at++] = prefix[i]!;
    for (let i = 0; i < labels.length; i++) buffer[at++] = labels[i]!;
    for (let i = 0; i < suffix.length; i++) buffer[at++] = suffix[i]!;
    if (Number.isSafeInteger(value) && value >= 0) {
      // Counters and gauges are mostly non-negative integers: digits straight into the buffer, no string per line.
      at = writeDigits(buffer, at, value, this.#digits);
    } else {
      const text = Number.isFinite(value) ? String(value) : Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
      for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    }
    this.#length = at;
  }

  byte(value: number): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
  }

  get length(): number {
    return this.#length;
  }

  result(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }
}

/**
 * Writes a non-negative safe integer in decimal at `at`; returns the position after it. `digits` is the caller's
 * scratch space (at least 16 bytes): the digits come lowest first.
 */
function writeDigits(buffer: Uint8Array, at: number, value: number, digits: Uint8Array): number {
  if (value < 10) {
    buffer[at] = 48 + value;
    return at + 1;
  }
  let count = 0;
  let rest = value;
  while (rest > 0) {
    const next = Math.floor(rest / 10);
    digits[count++] = 48 + (rest - next * 10);
    rest = next;
  }
  while (count > 0) buffer[at++] = digits[--count]!;
  return at;
}
