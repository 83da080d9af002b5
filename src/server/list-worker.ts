/**
 * The list worker's entry (see list-builder.ts): its own connection to the database, one list
 * or exposition built per message, the bodies handed back without copies.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStores } from '../store/open.ts';
import { buildMetrics, buildScopedList, DatacenterDataCache, type ListWorkerAnswer, type ListWorkerData, type ListWorkerRequest } from './list-builder.ts';
import { ScopeCache } from './scope-cache.ts';

const port = parentPort;
if (port === null) throw new Error('list-worker.ts runs as a worker thread (see workerListBuilder)');
const { store, shared: sessions } = await openStores(workerData as ListWorkerData);
const scopes = new ScopeCache(sessions);
const datacenters = new DatacenterDataCache(store);

/** A buffer that owns its whole ArrayBuffer, so that it can be transferred. */
const owned = (buffer: Buffer): Uint8Array => (buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength ? buffer : new Uint8Array(buffer));

async function answer(request: ListWorkerRequest): Promise<ListWorkerAnswer> {
  try {
    const built = request.kind === 'list' ? await buildScopedList(store, scopes, request, datacenters) : await buildMetrics(store, request);
    return { id: request.id, ok: true, json: owned(built.json), gzip: built.gzip === null ? null : owned(built.gzip) };
  } catch (error) {
    return { id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

port.on('message', (request: ListWorkerRequest) => {
  void answer(request).then((reply) => {
    const transfer = reply.ok ? [reply.json.buffer, ...(reply.gzip ? [reply.gzip.buffer] : [])] : [];
    port.postMessage(reply, transfer as ArrayBuffer[]);
  });
});
