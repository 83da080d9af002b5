/**
 * Crash safety for real: a child process writes samples in a loop and is killed with SIGKILL;
 * the database must open, pass integrity_check, and go on without counting a sample twice.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { addSample, type Rollup } from '../src/shared/rollup.ts';
import { bucketStart, tiers, tierStepSec } from '../src/shared/tiers.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import {
  crashBatches,
  crashVcenterId,
  crashVmIds,
  sampleEndSec,
  sampleValue,
  samplesPerWrite,
} from './fixtures/store-crash-writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'vscope-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the writer until it has reported `writes` committed writes, then SIGKILLs it. */
function writeThenKill(path: string, writes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'store-crash-writer.ts'), path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastReported = -1;
    let buffered = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) lastReported = Number(line);
      if (lastReported + 1 >= writes && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(lastReported);
      else reject(new Error(`writer exited by itself (code ${code}): ${stderr}`));
    });
  });
}

void test('a writer killed with SIGKILL leaves a sound database that resumes without duplicates', async () => {
  const path = join(dir, 'crash.db');
  // Three lives: each writer starts over from the first sample (the high-water marks make the
  // stored ones no-ops), goes 40 writes further than the last one, and is killed.
  let lastReported = -1;
  for (let round = 1; round <= 3; round++) {
    lastReported = await writeThenKill(path, 40 * round);
    assert.ok(lastReported + 1 >= 40 * round, `writer reported ${lastReported}`);
    assert.ok(existsSync(`${path}-wal`), 'the kill left a write-ahead log behind, as a crash does');
    const raw = new Database(path);
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    raw.close();
  }

  const store = openSqliteStore(path);
  const marks = store.highWaterMarks(crashVcenterId);
  // Every write covers all VMs in one transaction, so all marks agree and sit on a whole write.
  const committedWrites = new Set(crashVmIds.map((id) => marks.get(id)));
  assert.equal(committedWrites.size, 1, 'all VMs committed together');
  const mark = marks.get(crashVmIds[0] ?? '') ?? 0;
  const committedSamples = (mark - sampleEndSec(-1)) / 20;
  assert.equal(committedSamples % samplesPerWrite, 0);
  assert.ok(committedSamples >= (lastReported + 1) * samplesPerWrite, 'nothing reported as written was lost');

  // Resume: rewrite everything from the start, overlapping what is stored, plus 100 new samples.
  const total = committedSamples + 100;
  for (let first = 0; first < total; first += 500) store.writeRealtime(crashBatches(first, Math.min(500, total - first)));
  assert.equal(store.highWaterMarks(crashVcenterId).get(crashVmIds[0] ?? ''), sampleEndSec(total - 1));

  // Every bucket of every tier holds each sample exactly once.
  for (const tier of tiers) {
    const stepSec = tierStepSec[tier];
    for (const [vm, entityId] of [[0, crashVmIds[0]], [7, crashVmIds[7]]] as const) {
      const expected = new Map<number, Rollup | null>();
      for (let n = 0; n < total; n++) {
        const start = bucketStart(sampleEndSec(n), 20, stepSec);
        expected.set(start, addSample(expected.get(start) ?? null, sampleValue(vm, n)));
      }
      const starts = [...expected.keys()];
      const stored = store.rollups({ entityId: entityId ?? '', tier, fromSec: Math.min(...starts), toSec: Math.max(...starts), metrics: ['cpuUsagePct'] });
      const rollups = stored.series[0]?.rollups ?? [];
      assert.equal(rollups.length, starts.length);
      stored.ts.forEach((start, i) => {
        const want = expected.get(start);
        const got = rollups[i];
        assert.equal(got?.count, want?.count, `${tier} bucket ${start}: count`);
        assert.equal(got?.min, want?.min);
        assert.equal(got?.max, want?.max);
        assert.ok(Math.abs((got?.sum ?? NaN) - (want?.sum ?? NaN)) < 1e-6, `${tier} bucket ${start}: sum`);
      });
    }
  }
  store.close();
  const reopened = new Database(path);
  assert.equal(reopened.pragma('integrity_check', { simple: true }), 'ok');
  reopened.close();
});
