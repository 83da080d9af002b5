/**
 * Entry of the collector's worker thread (started by worker-collector.ts): the thread's own
 * composition root. It opens its own connection to the database the main thread opened and
 * migrated (WAL: its writes do not block the API's reads), builds the collector, and answers
 * the facade's messages. A cycle's CPU work (SOAP parsing, SQLite writes, the history
 * import) thus never stalls the HTTP event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { createLogger } from '../log.ts';
import { openStores } from '../store/open.ts';
import { createCollector } from './collector.ts';
import { LeaseKeeper } from './leases.ts';
import type { CollectorWorkerStart, FromCollectorWorker, ToCollectorWorker } from './worker-protocol.ts';

if (!parentPort) throw new Error('src/collector/worker.ts runs as a worker thread (see startCollectorWorker)');
const port = parentPort;
const start = workerData as CollectorWorkerStart;

// Synchronous writes to stdout: a worker gets no exit hook to flush an asynchronous stream.
const rootLog = createLogger(start.logLevel, pino.destination({ dest: 1, sync: true }));
const log = rootLog.child(start.logBindings);
const post = (message: FromCollectorWorker): void => port.postMessage(message);

const stores = await openStores({ sqlitePath: start.databasePath, engine: start.engine ?? null, database: start.database ?? null }, rootLog);
const store = stores.store;
// One holder per process: a worker restarted after a crash takes its own leases back at once.
const lease = new LeaseKeeper({ store: stores.shared, holderId: start.leaseHolderId, log });
const collector = createCollector({
  store,
  vcenters: start.vcenters,
  intervalSec: start.intervalSec,
  log,
  tuning: start.tuning,
  lease,
  onStatusChange: () => post({ type: 'status', statuses: collector.status(), cycleEnded: true }),
});
post({ type: 'status', statuses: collector.status(), cycleEnded: false });

/** Retention runs here, beside the writes, not on the API's thread: at 5,000 VMs it takes seconds. */
let retention: NodeJS.Timeout | undefined;
function startRetention(): void {
  retention ??= setInterval(() => {
    Promise.resolve()
      .then(() => store.applyRetention(Math.floor(Date.now() / 1000)))
      .catch((error: unknown) => log.error({ err: error }, 'retention failed; retrying next hour'));
  }, start.retentionEveryMs);
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(retention);
  try {
    await collector.stop();
  } finally {
    await stores.close();
    // Nothing is left to keep the thread alive once the port is closed: it exits.
    port.close();
  }
}

port.on('message', (message: ToCollectorWorker) => {
  switch (message.type) {
    case 'start':
      if (!stopping) {
        collector.start();
        startRetention();
      }
      break;
    case 'run-once':
      void collector.runOnce().then((results) => post({ type: 'run-once-done', id: message.id, results }));
      break;
    case 'stop':
      void stop();
      break;
  }
});
