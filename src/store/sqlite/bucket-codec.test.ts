import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeRollups, type Rollup } from '../../shared/rollup.ts';
import { accumulatorStride, addEncodedBucket, decodeBucket, encodeAccumulator, encodeBucket } from './bucket-codec.ts';

function accumulator(rollups: readonly (Rollup | null)[]): Float64Array {
  const acc = new Float64Array(rollups.length * accumulatorStride);
  rollups.forEach((r, i) => {
    if (r) acc.set([r.sum, r.count, r.min, r.max], i * accumulatorStride);
  });
  return acc;
}

void describe('bucket codec', () => {
  const cases: { name: string; rollups: (Rollup | null)[] }[] = [
    { name: 'all empty', rollups: [null, null, null] },
    { name: 'one constant value', rollups: [{ sum: 150, count: 15, min: 10, max: 10 }] },
    {
      name: 'hundredths, shared and own counts, a gap',
      rollups: [
        { sum: 123.45, count: 15, min: 1.05, max: 20.5 },
        null,
        { sum: 7, count: 3, min: 1, max: 4 },
        { sum: 0, count: 15, min: 0, max: 0 },
      ],
    },
    { name: 'negative values', rollups: [{ sum: -3, count: 2, min: -5, max: 2 }] },
    { name: 'large values past 2^32 hundredths', rollups: [{ sum: 5_400_000_000, count: 4320, min: 1_000_000, max: 1_500_000 }] },
    { name: 'trailing empty metrics', rollups: [{ sum: 1, count: 1, min: 1, max: 1 }, null, null] },
  ];
  for (const c of cases) {
    void it(`round-trips: ${c.name}`, () => {
      assert.deepEqual(decodeBucket(encodeBucket(c.rollups), c.rollups.length), c.rollups);
    });
    void it(`encodes an accumulator to the same bytes: ${c.name}`, () => {
      const encoded = encodeAccumulator(accumulator(c.rollups), c.rollups.length);
      if (c.rollups.every((r) => r === null)) assert.equal(encoded, null);
      else assert.deepEqual(encoded, encodeBucket(c.rollups));
    });
  }

  void it('adds a stored bucket into an accumulator as mergeRollups merges it', () => {
    const stored = cases[2]?.rollups ?? [];
    const added: (Rollup | null)[] = [{ sum: 10, count: 2, min: 0.5, max: 30 }, { sum: 3, count: 1, min: 3, max: 3 }, null, null, { sum: 1, count: 1, min: 1, max: 1 }];
    const acc = accumulator(added);
    addEncodedBucket(encodeBucket(stored), acc, added.length);
    const expected = added.map((r, i) => mergeRollups(decodeBucket(encodeBucket(stored), added.length)[i] ?? null, r));
    assert.deepEqual(decodeBucket(encodeAccumulator(acc, added.length) ?? Buffer.alloc(0), added.length), decodeBucket(encodeBucket(expected), added.length));
    assert.deepEqual(encodeAccumulator(acc, added.length), encodeBucket(expected));
  });

  void it('rounds to hundredths of the unit', () => {
    const [decoded] = decodeBucket(encodeBucket([{ sum: 1 / 3, count: 1, min: 1 / 3, max: 1 / 3 }]), 1);
    assert.deepEqual(decoded, { sum: 0.33, count: 1, min: 0.33, max: 0.33 });
  });

  void it('decodes metrics appended to the catalogue later as empty', () => {
    const blob = encodeBucket([{ sum: 4, count: 2, min: 1, max: 3 }]);
    assert.deepEqual(decodeBucket(blob, 3), [{ sum: 4, count: 2, min: 1, max: 3 }, null, null]);
  });

  void it('packs a steady metric into a few bytes', () => {
    // count 15, value 61.5 % throughout: tag, min: 1 + 1 + 2 bytes.
    assert.equal(encodeBucket([{ sum: 922.5, count: 15, min: 61.5, max: 61.5 }]).length, 4);
  });
});
