/**
 * CRC-32 (the gzip one) of a concatenation from the CRCs of its parts, without reading the bytes again: the
 * exposition is compressed family by family, and a scrape joins the pieces into one gzip member whose trailer needs
 * the CRC of the whole text.
 *
 * CRC-32 is linear over GF(2): crc(A‖B) = crc(A)·x^(8·|B|) mod P  ⊕  crc(B) (the initial and final inversions
 * cancel out). Polynomials are in the reflected order CRC-32 uses: bit 31 is x^0, bit 0 is x^31.
 */

const POLY = 0xedb88320;
const ONE = 0x80000000;

/** a·b mod P. */
function multiply(a: number, b: number): number {
  let product = 0;
  let factor = b;
  for (let bit = ONE; bit !== 0; bit >>>= 1) {
    if (a & bit) product ^= factor;
    // factor ·= x
    factor = factor & 1 ? (factor >>> 1) ^ POLY : factor >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) mod P for k = 0…63: enough for any exponent below 2^64. */
const X_POW_2K = (() => {
  const table = new Uint32Array(64);
  table[0] = ONE >>> 1; // x^1
  for (let k = 1; k < table.length; k++) table[k] = multiply(table[k - 1]!, table[k - 1]!);
  return table;
})();

/** x^(8·bytes) mod P: the shift of a CRC past `bytes` more bytes. */
function shiftFor(bytes: number): number {
  let result = ONE;
  let exponent = bytes * 8;
  for (let k = 0; exponent > 0; k++) {
    if (exponent % 2 === 1) result = multiply(X_POW_2K[k]!, result);
    exponent = Math.floor(exponent / 2);
  }
  return result;
}

/** The CRC-32 of A‖B from crc(A), crc(B) and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multiply(shiftFor(lengthB), crcA >>> 0) ^ crcB) >>> 0;
}
