import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonItems, jsonItemsOf } from './json-numbers.ts';
import { shownValue } from './series.ts';

const asJson = (values: readonly (number | null)[]): string => JSON.stringify(values).slice(1, -1);

test('jsonItems writes what JSON.stringify writes', () => {
  const edges = [0, -0, 1, -1, 0.001, -0.001, 0.005, 0.01, 0.05, 0.1, 0.105, 1.5, 12.345, 999.999, -999.999, 1000, 65536, 1048576,
    123456789.123, 2 ** 31, 2 ** 31 + 0.5, 1e12 + 0.25, 1e13, 4.5e15, 1e21, 1e-7, 0.1 + 0.2, Number.MAX_SAFE_INTEGER, null];
  assert.equal(jsonItems(edges).toString(), asJson(edges));
  assert.equal(jsonItems([]).toString(), '');
  assert.equal(jsonItems([null, null]).toString(), 'null,null');
});

test('jsonItems agrees with JSON.stringify on a million shown values of every magnitude', () => {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const values: (number | null)[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    const magnitude = 10 ** Math.floor(random() * 16 - 4);
    values.push(i % 97 === 0 ? null : shownValue((random() - 0.3) * magnitude));
  }
  for (let start = 0; start < values.length; start += 10_000) {
    const chunk = values.slice(start, start + 10_000);
    assert.equal(jsonItems(chunk).toString(), asJson(chunk), `values ${String(start)}...`);
  }
});

test('jsonItemsOf writes each array as jsonItems does, in one buffer', () => {
  const arrays = [[1.5, null], [], [123456789.123, -0.001, 2 ** 31 + 0.5, 1e21], [null], [0.1 + 0.2, 4.5e15, Number.MAX_SAFE_INTEGER]];
  assert.deepEqual(jsonItemsOf(arrays).map(String), arrays.map((values) => asJson(values)));
  assert.deepEqual(jsonItemsOf([]), []);
});
