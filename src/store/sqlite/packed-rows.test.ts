import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { eachPackedRow, packedRows } from './packed-rows.ts';

void test('packedRows: every row comes back whole from one BLOB, whatever its length and numbers', () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (entity INTEGER NOT NULL, bucket_sec INTEGER NOT NULL, data BLOB NOT NULL)');
  const rows: [number, number, Buffer][] = [
    [1, 1_800_000_000, Buffer.from([0, 1, 2, 255])],
    [2 ** 32 - 1, 4_000_000_000, Buffer.alloc(0)],
    [7, 300, Buffer.alloc(700, 0xab)],
  ];
  const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?)');
  for (const row of rows) insert.run(...row);
  const read = db.prepare<[number], Buffer | null>(packedRows('SELECT entity, bucket_sec, data FROM t WHERE entity >= ?')).pluck();
  const seen: [number, number, Buffer][] = [];
  eachPackedRow(read.get(0) ?? null, (entity, bucketSec, data) => seen.push([entity, bucketSec, Buffer.from(data)]));
  assert.deepEqual(seen.sort((a, b) => a[0] - b[0]), [...rows].sort((a, b) => a[0] - b[0]));
  assert.equal(read.get(2 ** 33), null, 'no rows: NULL');
  eachPackedRow(null, () => assert.fail('no row'));
  db.close();
});

void test('eachPackedRow: a cut or padded BLOB is refused', () => {
  const db = new Database(':memory:');
  const blob = db.prepare<[], Buffer>(packedRows("SELECT 5 AS entity, 600 AS bucket_sec, x'0102' AS data")).pluck().get();
  db.close();
  assert.ok(blob);
  assert.equal(blob.length, 12);
  for (const cut of [1, 9, 11]) assert.throws(() => eachPackedRow(blob.subarray(0, cut), () => undefined), /cut at byte 0/);
  assert.throws(() => eachPackedRow(Buffer.concat([blob, Buffer.from([0])]), () => undefined), /cut at byte 12/);
});
