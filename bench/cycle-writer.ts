/**
 * The API benchmark's stand-in for a collection cycle, run in a worker thread as vscope serve
 * runs its collector: its own connection to the database, and every 2 s one new 20 s sample for
 * every VM, written 50 VMs per transaction as the collector writes its query batches. (A real
 * cycle writes this once per interval; doing it every 2 s is the busier case.)
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { syntheticInventory, vmBatch } from './synthetic.ts';
import { random } from './stats.ts';

export interface CycleWriterData {
  readonly databasePath: string;
  readonly vms: number;
  readonly startSec: number;
}

const { databasePath, vms, startSec } = workerData as CycleWriterData;
const store = openSqliteStore(databasePath);
const snapshot = syntheticInventory(vms);
const next = random(2);
let endSec = startSec;
let stopped = false;
let cycles = 0;

parentPort?.on('message', () => {
  stopped = true;
});

while (!stopped) {
  endSec += 20;
  for (let start = 0; start < snapshot.vms.length && !stopped; start += 50) {
    store.writeRealtime(snapshot.vms.slice(start, start + 50).map((vm) => vmBatch(vm, 20, [endSec], next)));
    await new Promise((resolve) => setImmediate(resolve));
  }
  cycles++;
  if (!stopped) await new Promise((resolve) => setTimeout(resolve, 2000));
}
store.close();
parentPort?.postMessage({ cycles });
