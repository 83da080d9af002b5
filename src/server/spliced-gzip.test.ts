import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32, gunzipSync } from 'node:zlib';
import { assembleGzip, crc32Combine, crc32Shift, gzipFrame } from './spliced-gzip.ts';

const bytes = (text: string): Buffer => Buffer.from(text);
/** What the gzip must hold: each slot padded with spaces to its width. */
const padded = (parts: readonly string[], slots: readonly string[], widths: readonly number[]): string =>
  parts.map((part, i) => part + (i < slots.length ? (slots[i] ?? '').padEnd(widths[i] ?? 0, ' ') : '')).join('');

test('an assembled gzip holds the parts and the slots of the moment, whatever the slots held before', () => {
  // Parts that repeat each other (references cross the slots) and the slots' text (a reference
  // into a slot would copy what it held when the parts were compressed).
  const row = Array.from({ length: 400 }, (_, i) => String((i * 37) % 1000 / 10)).join(',');
  const parts = ['{"ts":[', `${row}],"avg":[`, `${row},1,2,3],"max":[`, `${row}]}`];
  const widths = [40, 8, 24];
  let frame = gzipFrame(parts.map(bytes), widths);
  assert.ok(frame);
  for (const slots of [['', '', ''], [',1,2,3', ',1', ',1,2,3'], ['1,2,3,4,5,6,7,8,9,10,11,12,13,14', '', ',99.5'], [',1,2,3', ',1,2,3,4', '']]) {
    const before: Buffer = Buffer.from(frame.gzip);
    const assembled = assembleGzip(frame, slots.map(bytes));
    assert.ok(assembled);
    // gunzip checks the CRC and the length of the text in the trailer.
    assert.equal(gunzipSync(assembled.gzip).toString(), padded(parts, slots, widths));
    // The frame again, its gzip that one: it makes the same gzips, and the one before is left as it was (it may be in flight).
    assert.equal(assembled.frame.gzip, assembled.gzip);
    assert.deepEqual(frame.gzip, before);
    assert.deepEqual(assembleGzip(assembled.frame, slots.map(bytes))?.gzip, assembled.gzip);
    frame = assembled.frame;
  }
  assert.ok(frame.gzip.length < parts.join('').length / 3, `compressed to ${String(frame.gzip.length)} bytes`);
});

test('a slot wider than its frame allows, or a part holding the placeholder byte, cannot be assembled', () => {
  const frame = gzipFrame([bytes('['), bytes(']')], [4]);
  assert.ok(frame);
  assert.equal(assembleGzip(frame, [bytes('1,2,3')]), null);
  assert.equal(gunzipSync(assembleGzip(frame, [bytes('1,2')])?.gzip ?? Buffer.alloc(0)).toString(), '[1,2 ]');
  assert.throws(() => assembleGzip(frame, []), /slots/);
  assert.equal(gzipFrame([bytes('[\u0001'), bytes(']')], [4]), null);
  assert.throws(() => gzipFrame([bytes('[')], [4]), /parts/);
});

test('CRC-32 combined from the pieces\' CRCs is zlib\'s CRC of the whole, for any lengths', () => {
  let seed = 7;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const length of [0, 1, 2, 3, 7, 8, 255, 256, 1000, 65_537, 200_003]) {
    const first = Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256)));
    const second = Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
    assert.equal(crc32Combine(crc32(first), crc32(second), crc32Shift(second.length)), crc32(Buffer.concat([first, second])), `${String(length)} bytes`);
  }
  assert.equal(crc32Combine(0, crc32('abc'), crc32Shift(3)), crc32('abc'), 'after nothing');
  assert.equal(crc32Combine(crc32('abc'), 0, crc32Shift(0)), crc32('abc'), 'before nothing');
});
