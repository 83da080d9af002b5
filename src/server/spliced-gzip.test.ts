import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { assembleGzip, gzipFrame } from './spliced-gzip.ts';

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
    const assembled = assembleGzip(frame, parts.map(bytes), slots.map(bytes));
    assert.ok(assembled);
    assert.equal(gunzipSync(assembled.gzip).toString(), padded(parts, slots, widths));
    // The frame again, its parts views of that gzip: it makes the same gzips.
    assert.ok(assembled.frame.compressed.every((part) => part.buffer === assembled.gzip.buffer));
    assert.deepEqual(assembleGzip(assembled.frame, parts.map(bytes), slots.map(bytes))?.gzip, assembled.gzip);
    frame = assembled.frame;
  }
  assert.ok(frame.bytes < parts.join('').length / 3, `compressed to ${String(frame.bytes)} bytes`);
});

test('a slot wider than its frame allows, or a part holding the placeholder byte, cannot be assembled', () => {
  const frame = gzipFrame([bytes('['), bytes(']')], [4]);
  assert.ok(frame);
  assert.equal(assembleGzip(frame, [bytes('['), bytes(']')], [bytes('1,2,3')]), null);
  assert.equal(gunzipSync(assembleGzip(frame, [bytes('['), bytes(']')], [bytes('1,2')])?.gzip ?? Buffer.alloc(0)).toString(), '[1,2 ]');
  assert.equal(gzipFrame([bytes('[\u0001'), bytes(']')], [4]), null);
  assert.throws(() => gzipFrame([bytes('[')], [4]), /parts/);
});
