/**
 * Unpredictable identifiers for probes (nonces, DNS IDs, SIP branches). Taken from the platform's CSPRNG: a reply
 * must not be forgeable by a host that saw earlier probes, so a counter or Math.random would not do.
 */

export function randomBytes(count: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(count));
}

export function randomHex(byteCount: number): string {
  return Buffer.from(randomBytes(byteCount)).toString("hex");
}

export function randomU16(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0] as number;
}

/** Wall-clock Unix time in nanoseconds as decimal digits (microsecond resolution; the rest is zero). */
export function unixNanos(): string {
  const ms = performance.timeOrigin + performance.now();
  const whole = Math.floor(ms);
  const micros = Math.floor((ms - whole) * 1000);
  return `${whole}${String(micros).padStart(3, "0")}000`;
}
