/**
 * CRC-32 (the IEEE polynomial, bit-reflected, as gzip uses it) of a concatenation from the
 * CRCs of its parts, so blocks can be checksummed on different threads.
 *
 * The CRC register is a polynomial over GF(2) modulo P. Appending n zero bytes to a message
 * multiplies its (pre- and post-conditioned) CRC by x^(8n) mod P, and CRC is linear, so
 * crc(A‖B) = crc(A)·x^(8·|B|) + crc(B). Polynomials are 32-bit numbers in reflected order:
 * the most significant bit is the coefficient of x^0.
 */

/** P, reflected. */
const POLY = 0xedb88320;
/** The polynomial 1 (x^0), reflected. */
const ONE = 0x80000000;

/** a·b mod P. */
function multiplyModP(a: number, b: number): number {
  let product = 0;
  let shifted = b >>> 0;
  for (let bit = ONE; bit !== 0; bit >>>= 1) {
    if ((a & bit) !== 0) product ^= shifted;
    // shifted·x: one step to the right in reflected order, reduced by P.
    shifted = shifted & 1 ? (shifted >>> 1) ^ POLY : shifted >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) mod P for k = 0..31, each the square of the one before. */
const POWERS: number[] = [ONE >>> 1];
for (let k = 1; k < 32; k++) POWERS.push(multiplyModP(POWERS[k - 1]!, POWERS[k - 1]!));

/** x^(8·bytes) mod P, by binary exponentiation over the bits of 8·bytes. */
function shiftForBytes(bytes: number): number {
  let result = ONE;
  let k = 3; // 8·bytes = bytes·2^3
  for (let n = bytes; n > 0; n = Math.floor(n / 2), k = (k + 1) % 32) {
    if (n % 2 === 1) result = multiplyModP(POWERS[k]!, result);
  }
  return result;
}

/** The CRC-32 of A‖B, given crc(A), crc(B) and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB === 0) return crcA >>> 0;
  return (multiplyModP(shiftForBytes(lengthB), crcA >>> 0) ^ crcB) >>> 0;
}
