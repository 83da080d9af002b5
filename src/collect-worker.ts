/**
 * Entry of `vscope collect`'s worker thread (started by collect-thread.ts `runCollectInWorker`): the
 * thread's own composition root, which runs `runCollect` with the configuration it is given.
 * The collector runs here rather than on the main thread for the limit of its V8 heap (see
 * `collectorHeapLimitMb`). It stops when the main thread posts `stop` (a worker gets no
 * signals) and posts its exit code, or the message of what it threw, when it is done.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { CollectWorkerStart, FromCollectWorker, ToCollectWorker } from './collect-thread.ts';
import { createLogger } from './log.ts';
import { runCollect } from './main.ts';

if (!parentPort) throw new Error('src/collect-worker.ts runs as a worker thread (see runCollectInWorker)');
const port = parentPort;
const start = workerData as CollectWorkerStart;

// Synchronous writes to stdout: a worker gets no exit hook to flush an asynchronous stream.
const log = createLogger(start.config.logLevel, pino.destination({ dest: 1, sync: true }));
log.debug({ heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20) }, 'collector thread started');
const stopped = new Promise<void>((resolve) => {
  port.on('message', (message: ToCollectWorker) => {
    if (message.type === 'stop') resolve();
  });
});
const post = (message: FromCollectWorker): void => port.postMessage(message);
try {
  post({ type: 'exit', code: await runCollect(start.config, log, { once: start.once, stopped }) });
} catch (error) {
  post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
}
port.close();
