/**
 * Series values as JSON array items, written straight into bytes.
 *
 * A year series is ~16,500 numbers; `String(number)` on fractions costs ~200 ns each (the
 * shortest round-trip conversion), which made formatting the larger part of building a series
 * answer. Values shown by the API are rounded to thousandths (series.ts `shownValue`), so they
 * are written here as integers of thousandths with a decimal point put in: the same text
 * `JSON.stringify` gives for those numbers (json-numbers.test.ts checks millions of them).
 */

/** Past this magnitude (in thousandths) a value is written by `String`, exponent rules and all. */
const maxExact = 1e15;

const comma = 0x2c;
const zero = 0x30;

/** "000" to "999" as bytes, three per number, and how long each is without its trailing zeros. */
const triples = new Uint8Array(3000);
const withoutTrailingZeros = new Uint8Array(1000);
for (let n = 0; n < 1000; n++) {
  triples[n * 3] = zero + Math.floor(n / 100);
  triples[n * 3 + 1] = zero + (Math.floor(n / 10) % 10);
  triples[n * 3 + 2] = zero + (n % 10);
  withoutTrailingZeros[n] = n % 100 === 0 ? 1 : n % 10 === 0 ? 2 : 3;
}

/** A growable byte buffer for ASCII. */
class AsciiWriter {
  private bytes: Uint8Array;
  length = 0;

  /** @param capacity bytes to start with (it grows as needed) */
  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(16, capacity));
  }

  /** Makes room for `count` more bytes. */
  reserve(count: number): void {
    if (this.length + count > this.bytes.length) this.grow(count);
  }

  byte(value: number): void {
    if (this.length === this.bytes.length) this.grow(1);
    this.bytes[this.length++] = value;
  }

  text(value: string): void {
    if (this.length + value.length > this.bytes.length) this.grow(value.length);
    for (let i = 0; i < value.length; i++) this.bytes[this.length++] = value.charCodeAt(i);
  }

  /** A non-negative integer below 2^53, three digits at a time. */
  digits(value: number): void {
    if (this.length + 16 > this.bytes.length) this.grow(16);
    if (value < 1000) {
      const first = value < 10 ? 2 : value < 100 ? 1 : 0;
      for (let i = value * 3 + first; i < value * 3 + 3; i++) this.bytes[this.length++] = triples[i] ?? zero;
      return;
    }
    const high = Math.floor(value / 1000);
    this.digits(high);
    this.triple(value - high * 1000, 3);
  }

  /** The first `count` digits of `value` written on three places (0 to 999); room reserved by the caller. */
  triple(value: number, count: number): void {
    for (let i = value * 3; i < value * 3 + count; i++) this.bytes[this.length++] = triples[i] ?? zero;
  }

  finish(): Buffer {
    return Buffer.from(this.bytes.buffer, 0, this.length);
  }

  private grow(needed: number): void {
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + needed));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}

/** Writes one value as JSON would: null, an integer, or a decimal of up to three places. */
function writeValue(out: AsciiWriter, value: number | null): void {
  if (value === null || !Number.isFinite(value)) {
    out.text('null');
    return;
  }
  const thousandths = Math.round(value * 1000);
  if (!(Math.abs(thousandths) < maxExact) || thousandths / 1000 !== value) {
    // Not exactly a value in thousandths (or too large): the general conversion.
    out.text(String(value));
    return;
  }
  // Sign, 16 digits, point, 3 digits: the writes below need no bounds checks of their own.
  out.reserve(24);
  if (thousandths < 0) out.byte(0x2d);
  const absolute = Math.abs(thousandths);
  const whole = Math.floor(absolute / 1000);
  out.digits(whole);
  const fraction = absolute - whole * 1000;
  if (fraction === 0) return;
  out.byte(0x2e);
  out.triple(fraction, withoutTrailingZeros[fraction] ?? 3);
}

/** The values as JSON array items, comma-separated, without brackets. */
export function jsonItems(values: readonly (number | null)[]): Buffer {
  // Sized for the values: a fixed 4 KB start cost more than the writing for short arrays.
  const out = new AsciiWriter(values.length * 8);
  writeItems(out, values);
  return out.finish();
}

/**
 * `jsonItems` of each array, written into one buffer (the answers are views of it): a splice
 * writes 46 arrays of one or two values each, and a buffer per array was most of its cost.
 */
export function jsonItemsOf(arrays: readonly (readonly (number | null)[])[]): Buffer[] {
  const out = new AsciiWriter(arrays.reduce((sum, values) => sum + values.length * 8, 0));
  const ends = arrays.map((values) => {
    writeItems(out, values);
    return out.length;
  });
  const bytes = out.finish();
  return ends.map((end, i) => bytes.subarray(ends[i - 1] ?? 0, end));
}

function writeItems(out: AsciiWriter, values: readonly (number | null)[]): void {
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out.byte(comma);
    writeValue(out, values[i] ?? null);
  }
}
