import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, theilSenLine } from './robust-trend.ts';

void describe('theilSenLine', () => {
  void it('is null for fewer than two points', () => {
    assert.equal(theilSenLine([], []), null);
    assert.equal(theilSenLine([1], [5]), null);
  });

  void it('takes the only slope of two points, interval included', () => {
    assert.deepEqual(theilSenLine([0, 2], [1, 5]), {
      slope: 2,
      slopeLow: 2,
      slopeHigh: 2,
      intercept: 1,
      points: 2,
      pairs: 1,
      pairsSampled: false,
    });
  });

  void it('ignores one wild point', () => {
    // Slopes not touching x = 3 are all 1 (six of them); with it: 10, 14.5, 28 and -26.
    // Sorted: -26 1 1 1 1 1 1 10 14.5 28, median (5th + 6th) / 2 = 1. Offsets y - x: 0 0 0 27 0.
    const line = theilSenLine([0, 1, 2, 3, 4], [0, 1, 2, 30, 4]);
    assert.equal(line?.slope, 1);
    assert.equal(line?.intercept, 0);
    assert.equal(line?.pairs, 10);
  });

  void it("gives Sen's 95 % interval from the ranks of the pairwise slopes", () => {
    // y = x^2 on x = 0..9: the slope of pair (i, j) is i + j. Counting the 45 sums, rank 21 to 25
    // hold 9 (median, rank 23), ranks 10 to 12 hold 6, ranks 34 to 36 hold 12.
    // N = 45, C = 1.96 * sqrt(10 * 9 * 25 / 18) = 21.91: ranks (45 - C) / 2 = 11.5 -> 12 and
    // (45 + C) / 2 + 1 = 34.5 -> 34 (nearest rank). Offsets x^2 - 9x: median of
    // -20 -20 -18 -18 -14 -14 -8 -8 0 0 is -14.
    const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const line = theilSenLine(xs, xs.map((x) => x * x));
    assert.deepEqual(line, { slope: 9, slopeLow: 6, slopeHigh: 12, intercept: -14, points: 10, pairs: 45, pairsSampled: false });
  });

  void it('samples pairs past maxPairs and still finds an exact line', () => {
    const xs = Array.from({ length: 200 }, (_, i) => i);
    const line = theilSenLine(xs, xs.map((x) => 3 * x + 2), 500);
    assert.deepEqual(line, { slope: 3, slopeLow: 3, slopeHigh: 3, intercept: 2, points: 200, pairs: 500, pairsSampled: true });
  });

  void it('gives the same line twice for the same sampled points', () => {
    const xs = Array.from({ length: 300 }, (_, i) => i);
    const ys = xs.map((x) => x + ((x * 7919) % 13));
    assert.deepEqual(theilSenLine(xs, ys, 1000), theilSenLine(xs, ys, 1000));
  });

  void it('does not change its inputs', () => {
    const xs = [3, 0, 2, 1];
    const ys = [9, 0, 4, 1];
    theilSenLine(xs, ys);
    assert.deepEqual(xs, [3, 0, 2, 1]);
    assert.deepEqual(ys, [9, 0, 4, 1]);
  });
});

void describe('median', () => {
  const cases: { name: string; values: number[]; expected: number | null }[] = [
    { name: 'nothing', values: [], expected: null },
    { name: 'odd count', values: [3, 1, 2], expected: 2 },
    { name: 'even count: mean of the middle two', values: [4, 1, 3, 2], expected: 2.5 },
    { name: 'non-finite values left out', values: [Number.NaN, 1, Number.POSITIVE_INFINITY], expected: 1 },
    { name: 'ties', values: [5, 5, 1, 5], expected: 5 },
    {
      // 500 ones, one 2 and 500 threes, scrambled (i * 389 mod 1001 is a permutation).
      name: 'many ties, scrambled',
      values: Array.from({ length: 1001 }, (_, i) => {
        const r = (i * 389) % 1001;
        return r < 500 ? 1 : r === 500 ? 2 : 3;
      }),
      expected: 2,
    },
  ];
  for (const c of cases) void it(c.name, () => assert.equal(median(c.values), c.expected));
});
