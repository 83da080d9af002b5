/**
 * The compact encoding of one bucket row: every metric of an entity kind (in the order of
 * shared/metrics.ts `metricsByKind`) with its sum, count, min and max, in one BLOB.
 *
 * Values are kept in hundredths of their unit (0.01 %, 0.01 MHz, 0.01 KBps...), as integers:
 * vCenter's own counters are integers (or hundredths of a percent), so realtime values and their
 * sums stay exact, and integers pack into a few bytes where float32 would always take four.
 *
 * Layout, all integers as LEB128 varints ("zz" = zigzag for signed values):
 * ```
 * rowCount
 * per metric, in kind order (trailing empty metrics are left out):
 *   tag: 0 = no value; else (countCode << 1) | constant
 *        countCode 1 = the metric's count is rowCount; n >= 2 = its count is n - 1
 *   constant (min == max, so every sample had the same value):  zz(min)
 *   otherwise:  zz(min), max - min, zz(sum - min * count)
 * ```
 * Storing max and sum relative to min keeps steady metrics (memory, capacity) in one or two
 * bytes whatever their magnitude. A metric appended to the catalogue later simply decodes as
 * "no value" from older rows. Changing this layout needs a migration.
 */
import type { Rollup } from '../../shared/rollup.ts';

/** Stored values are integers in 1/valueScale of the metric's unit. */
export const valueScale = 100;

class ByteWriter {
  private bytes = new Uint8Array(64);
  private length = 0;

  /** Unsigned integer up to 2^53, 7 bits a byte; arithmetic rather than bit operators past 2^31. */
  varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.push(rest);
  }

  zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  /** Starts a new row, keeping the grown byte array. */
  reset(): void {
    this.length = 0;
  }

  /** A copy of the bytes written (the writer is reused). */
  finish(): Buffer {
    return Buffer.from(this.bytes.subarray(0, this.length));
  }

  private push(byte: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = byte;
  }
}

class ByteReader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  varint(): number {
    let value = 0;
    let factor = 1;
    for (;;) {
      const byte = this.bytes[this.offset++];
      if (byte === undefined) throw new Error('corrupt bucket row: truncated varint');
      value += (byte & 0x7f) * factor;
      if (byte < 0x80) return value;
      factor *= 0x80;
    }
  }

  zigzag(): number {
    const raw = this.varint();
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }
}

const scaled = (value: number): number => Math.round(value * valueScale);

function seenBefore(rollups: readonly (Rollup | null)[], index: number, count: number): boolean {
  for (let j = 0; j < index; j++) if (rollups[j]?.count === count) return true;
  return false;
}

// Encoding is synchronous: one writer serves every call.
const sharedWriter = new ByteWriter();

/** Encodes one bucket's rollups, one entry per metric of the kind (null = no value). */
export function encodeBucket(rollups: readonly (Rollup | null)[]): Buffer {
  let last = rollups.length - 1;
  while (last >= 0 && rollups[last] == null) last--;
  // The shared count is the most frequent one (the first seen on a tie), so that most metrics
  // need no count of their own. Counted in place: a bucket has a few dozen metrics at most.
  let rowCount = 0;
  let best = 0;
  for (let i = 0; i <= last; i++) {
    const count = rollups[i]?.count;
    if (count === undefined || seenBefore(rollups, i, count)) continue;
    let times = 1;
    for (let j = i + 1; j <= last; j++) if (rollups[j]?.count === count) times++;
    if (times > best) {
      rowCount = count;
      best = times;
    }
  }
  const writer = sharedWriter;
  writer.reset();
  writer.varint(rowCount);
  for (let i = 0; i <= last; i++) {
    const rollup = rollups[i];
    if (rollup == null) {
      writer.varint(0);
      continue;
    }
    const count = Math.max(1, Math.round(rollup.count));
    const countCode = count === rowCount ? 1 : count + 1;
    const min = scaled(rollup.min);
    const max = scaled(rollup.max);
    const constant = min === max && scaled(rollup.sum) === min * count;
    writer.varint(countCode * 2 + (constant ? 1 : 0));
    writer.zigzag(min);
    if (!constant) {
      writer.varint(max - min);
      writer.zigzag(scaled(rollup.sum) - min * count);
    }
  }
  return writer.finish();
}

/** Decodes a bucket row into `metricCount` rollups (null = no value). */
export function decodeBucket(blob: Uint8Array, metricCount: number): (Rollup | null)[] {
  const reader = new ByteReader(blob);
  const rollups: (Rollup | null)[] = new Array<Rollup | null>(metricCount).fill(null);
  const rowCount = reader.varint();
  for (let i = 0; i < metricCount && !reader.done; i++) {
    const tag = reader.varint();
    if (tag === 0) continue;
    const countCode = Math.floor(tag / 2);
    const constant = tag % 2 === 1;
    const count = countCode === 1 ? rowCount : countCode - 1;
    const min = reader.zigzag();
    const max = constant ? min : min + reader.varint();
    const sum = constant ? min * count : reader.zigzag() + min * count;
    rollups[i] = { sum: sum / valueScale, count, min: min / valueScale, max: max / valueScale };
  }
  return rollups;
}

/*
 * The same encoding over rollups kept flat in a Float64Array, four numbers per metric (sum,
 * count, min, max; a count of 0 is "no value"): the write path adds samples and stored buckets
 * into one such array per bucket instead of making a rollup object per metric (issue #12).
 */

/** Numbers per metric in an accumulator: sum, count, min, max. */
export const accumulatorStride = 4;

/** Adds a stored bucket's rollups into `acc` (see `accumulatorStride`), `metricCount` metrics. */
export function addEncodedBucket(blob: Uint8Array, acc: Float64Array, metricCount: number): void {
  const reader = new ByteReader(blob);
  const rowCount = reader.varint();
  for (let i = 0; i < metricCount && !reader.done; i++) {
    const tag = reader.varint();
    if (tag === 0) continue;
    const countCode = Math.floor(tag / 2);
    const constant = tag % 2 === 1;
    const count = countCode === 1 ? rowCount : countCode - 1;
    const min = reader.zigzag();
    const max = constant ? min : min + reader.varint();
    const sum = constant ? min * count : reader.zigzag() + min * count;
    const at = i * accumulatorStride;
    if ((acc[at + 1] ?? 0) === 0) {
      acc[at] = sum / valueScale;
      acc[at + 1] = count;
      acc[at + 2] = min / valueScale;
      acc[at + 3] = max / valueScale;
    } else {
      acc[at] = (acc[at] ?? 0) + sum / valueScale;
      acc[at + 1] = (acc[at + 1] ?? 0) + count;
      acc[at + 2] = Math.min(acc[at + 2] ?? 0, min / valueScale);
      acc[at + 3] = Math.max(acc[at + 3] ?? 0, max / valueScale);
    }
  }
}

/**
 * Encodes an accumulator of `metricCount` metrics exactly as `encodeBucket` encodes the same
 * rollups; null when no metric holds a value.
 */
export function encodeAccumulator(acc: Float64Array, metricCount: number): Buffer | null {
  const countOf = (i: number): number => acc[i * accumulatorStride + 1] ?? 0;
  let last = metricCount - 1;
  while (last >= 0 && countOf(last) === 0) last--;
  if (last < 0) return null;
  let rowCount = 0;
  let best = 0;
  // Usually every metric has the same count: then it is the shared one.
  let shared = 0;
  for (let i = 0; i <= last && shared >= 0; i++) {
    const count = countOf(i);
    if (count === 0) continue;
    if (shared === 0) shared = count;
    else if (count !== shared) shared = -1;
  }
  if (shared > 0) {
    rowCount = shared;
    best = last + 1;
  }
  for (let i = 0; i <= last && shared < 0; i++) {
    const count = countOf(i);
    if (count === 0) continue;
    let seen = false;
    for (let j = 0; j < i && !seen; j++) seen = countOf(j) === count;
    if (seen) continue;
    let times = 1;
    for (let j = i + 1; j <= last; j++) if (countOf(j) === count) times++;
    if (times > best) {
      rowCount = count;
      best = times;
    }
  }
  const writer = sharedWriter;
  writer.reset();
  writer.varint(rowCount);
  for (let i = 0; i <= last; i++) {
    const at = i * accumulatorStride;
    const rawCount = acc[at + 1] ?? 0;
    if (rawCount === 0) {
      writer.varint(0);
      continue;
    }
    const count = Math.max(1, Math.round(rawCount));
    const countCode = count === rowCount ? 1 : count + 1;
    const min = scaled(acc[at + 2] ?? 0);
    const max = scaled(acc[at + 3] ?? 0);
    const sum = scaled(acc[at] ?? 0);
    const constant = min === max && sum === min * count;
    writer.varint(countCode * 2 + (constant ? 1 : 0));
    writer.zigzag(min);
    if (!constant) {
      writer.varint(max - min);
      writer.zigzag(sum - min * count);
    }
  }
  return writer.finish();
}
