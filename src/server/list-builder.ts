/**
 * Builds the big answers: the datacenter lists (every VM, host, datastore) as JSON, and the
 * Prometheus exposition of every entity, with their gzip bodies.
 *
 * A 5,000-VM list takes ~300 ms of CPU to read, shape, serialize and compress, the exposition
 * over a second (18 MB of text): done on the server's event loop, they would stall every other
 * request for that long each time the data changes or Prometheus scrapes. `workerListBuilder` does it in a worker thread with its own read connection to the
 * database (SQLite in WAL: readers never wait for the collector), and hands back the bodies
 * without copying them; `inlineListBuilder` does the same in this thread (tests, `inject`).
 */
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import type { Visibility } from '../shared/visibility.ts';
import type { StoreSettings } from '../store/open.ts';
import type { CollectionStatus, SessionStore, Store, StoredEntity, StoredVm } from '../store/store.ts';
import { moduleBeside, startWorker } from '../worker-thread.ts';
import { minGzipBytes, type PreparedBody } from './prepared-body.ts';
import { renderMetrics } from './prometheus.ts';
import { ScopeCache } from './scope-cache.ts';
import { DatacenterData, datastoreRows, everything, hostRows, selectLive, shows, showsRelationsOf, vmRow } from './views.ts';

export interface ListRequest {
  readonly list: 'vms' | 'hosts' | 'datastores';
  readonly datacenterId: string;
  readonly includeRemoved: boolean;
  /** The scope of the person asking (shared/visibility.ts): the list holds what they may read. */
  readonly scopeId: string;
  /** The clock, for the hosts' uptime. */
  readonly nowSec: number;
}

/** What the exposition needs beside the store: the collector's live statuses come from the main thread. */
export interface MetricsRequest {
  readonly vcenters: readonly { readonly id: string; readonly name: string }[];
  readonly statuses: readonly CollectionStatus[];
  readonly nowSec: number;
  readonly intervalSec: number;
}

export interface BuiltList {
  /** UTF-8 JSON (or, for the metrics, the exposition text). */
  readonly json: Buffer;
  /** The same, gzipped; null when too small to be worth it. */
  readonly gzip: Buffer | null;
}

export interface ListBuilder {
  /** @throws Error when the datacenter is unknown (callers check it first) */
  build(request: ListRequest): Promise<BuiltList>;
  /** The Prometheus exposition text (see prometheus.ts). */
  metrics(request: MetricsRequest): Promise<BuiltList>;
  close(): Promise<void>;
}

/**
 * The entities and latest figures of each datacenter, read once per data version of the store
 * and shared by the lists of every scope: with 20 people of 20 different scopes, a cycle's
 * write means 20 lists to build, and reading the datacenter was most of each build.
 */
export class DatacenterDataCache {
  private readonly entries = new Map<string, { readonly version: number; readonly data: Promise<DatacenterData> }>();

  constructor(
    private readonly store: Store,
    /** Datacenters (x removed or not) kept at most; the least recently used go first. */
    private readonly maxEntries = 8,
  ) {}

  /** @throws Error when the datacenter is unknown */
  async get(datacenterId: string, includeRemoved: boolean): Promise<DatacenterData> {
    const version = await this.store.dataVersion?.();
    const key = `${datacenterId} ${String(includeRemoved)}`;
    const kept = this.entries.get(key);
    this.entries.delete(key);
    if (kept !== undefined && kept.version === version) {
      this.entries.set(key, kept);
      return kept.data;
    }
    const data = this.load(datacenterId, includeRemoved);
    // Without a data version nothing is kept: every list reads the store again.
    if (version !== undefined) {
      this.entries.set(key, { version, data });
      data.catch(() => this.entries.delete(key));
      while (this.entries.size > this.maxEntries) {
        const oldest = this.entries.keys().next();
        if (oldest.done === true) break;
        this.entries.delete(oldest.value);
      }
    }
    return data;
  }

  private async load(datacenterId: string, includeRemoved: boolean): Promise<DatacenterData> {
    const datacenter = await this.store.entity(datacenterId);
    if (datacenter?.kind !== 'datacenter') throw new Error(`no datacenter ${datacenterId}`);
    return DatacenterData.load(this.store, datacenter, includeRemoved);
  }
}

/** The list as JSON and gzip, of what `visibility` shows, read from `store` in the calling thread. */
export async function buildList(store: Store, request: Omit<ListRequest, 'scopeId'>, visibility: Visibility, datacenters = new DatacenterDataCache(store, 0)): Promise<BuiltList> {
  const data = await datacenters.get(request.datacenterId, request.includeRemoved);
  const shown = <T extends StoredEntity>(list: readonly T[]): T[] => selectLive(list, request.includeRemoved).filter((entity) => shows(visibility, entity));
  const text =
    request.list === 'vms'
      ? await vmListJson(data, shown(data.vms), visibility)
      : JSON.stringify(request.list === 'hosts' ? await hostRows(data, shown(data.hosts), request.nowSec, visibility) : await datastoreRows(data, shown(data.datastores)));
  const json = Buffer.from(text);
  return { json, gzip: json.length < minGzipBytes ? null : gzipSync(json, { level: 6 }) };
}

/** Each VM's row as a person who sees everything sees it, as JSON, per DatacenterData (one data version). */
const vmRowTexts = new WeakMap<DatacenterData, Map<string, string>>();

/**
 * The JSON of these VMs' rows, the same text as `JSON.stringify(await vmRows(...))`: a row
 * whose relations the person sees whole is the same for everybody, so its text is made once
 * per data version and reused by every scope's list.
 */
export async function vmListJson(data: DatacenterData, vms: readonly StoredVm[], visibility: Visibility): Promise<string> {
  const latest = await data.latest(vms.map((vm) => vm.id));
  let texts = vmRowTexts.get(data);
  if (texts === undefined) {
    texts = new Map();
    vmRowTexts.set(data, texts);
  }
  const parts = vms.map((vm) => {
    if (!showsRelationsOf(data, vm, visibility)) return JSON.stringify(vmRow(data, vm, visibility, latest));
    let text = texts.get(vm.id);
    if (text === undefined) {
      text = JSON.stringify(vmRow(data, vm, everything, latest));
      texts.set(vm.id, text);
    }
    return text;
  });
  return `[${parts.join(',')}]`;
}

/** The exposition text and its gzip (level 1: the text is large and rebuilt for every scrape). */
export async function buildMetrics(store: Store, request: MetricsRequest): Promise<BuiltList> {
  const text = Buffer.from(await renderMetrics({ store, ...request }));
  return { json: text, gzip: text.length < minGzipBytes ? null : gzipSync(text, { level: 1 }) };
}

/** A built answer as the body `sendPrepared` sends (its gzip is ready). */
export function preparedBody(built: BuiltList): PreparedBody {
  return { json: built.json, gzip: () => built.gzip };
}

/** Builds a list for the scope the request names, read from `scopes`; throws when it is not stored. */
export async function buildScopedList(store: Store, scopes: ScopeCache, request: ListRequest, datacenters?: DatacenterDataCache): Promise<BuiltList> {
  const scope = await scopes.get(request.scopeId);
  if (scope === null) throw new Error(`scope ${request.scopeId} is not stored`);
  return buildList(store, request, scope, datacenters);
}

export function inlineListBuilder(store: Store, sessionStore: Pick<SessionStore, 'scope'>): ListBuilder {
  const scopes = new ScopeCache(sessionStore);
  const datacenters = new DatacenterDataCache(store);
  return {
    build: (request) => buildScopedList(store, scopes, request, datacenters),
    metrics: (request) => buildMetrics(store, request),
    close: () => Promise.resolve(),
  };
}

/** What the list worker receives at start and per request, and what it answers. */
export type ListWorkerData = StoreSettings;
export type ListWorkerRequest =
  | (ListRequest & { readonly id: number; readonly kind: 'list' })
  | (MetricsRequest & { readonly id: number; readonly kind: 'metrics' });
export type ListWorkerAnswer =
  | { readonly id: number; readonly ok: true; readonly json: Uint8Array; readonly gzip: Uint8Array | null }
  | { readonly id: number; readonly ok: false; readonly error: string };

/**
 * Builds lists in a worker thread reading the stores of `stores` (a SQLite file's path: that
 * file alone). Requests run one at a time, in order.
 * A worker that dies fails the requests in flight and is started again by the next one.
 */
export function workerListBuilder(stores: StoreSettings | string, log: Logger): ListBuilder {
  const settings: StoreSettings = typeof stores === 'string' ? { sqlitePath: stores, engine: null } : stores;
  let worker: Worker | null = null;
  let nextId = 0;
  const pending = new Map<number, { resolve: (list: BuiltList) => void; reject: (error: Error) => void }>();

  const failAll = (error: Error): void => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  const started = (): Worker => {
    if (worker) return worker;
    const workerData: ListWorkerData = settings;
    const thread = startWorker(moduleBeside(import.meta.url, 'list-worker'), { workerData });
    thread.on('message', (answer: ListWorkerAnswer) => {
      const waiting = pending.get(answer.id);
      pending.delete(answer.id);
      // An idle worker alone must not keep the process alive.
      if (pending.size === 0) thread.unref();
      if (!waiting) return;
      if (answer.ok) {
        waiting.resolve({ json: toBuffer(answer.json), gzip: answer.gzip === null ? null : toBuffer(answer.gzip) });
      } else {
        waiting.reject(new Error(answer.error));
      }
    });
    thread.on('error', (error) => log.error({ err: error }, 'the list worker failed; it starts again with the next request'));
    thread.once('exit', (code) => {
      if (worker === thread) worker = null;
      failAll(new Error(`the list worker stopped (exit code ${String(code)})`));
    });
    worker = thread;
    return thread;
  };

  const ask = (message: ListWorkerRequest): Promise<BuiltList> =>
    new Promise<BuiltList>((resolve, reject) => {
      pending.set(message.id, { resolve, reject });
      const thread = started();
      thread.ref();
      thread.postMessage(message);
    });

  return {
    build: (request) => ask({ ...request, id: nextId++, kind: 'list' }),
    metrics: (request) => ask({ ...request, id: nextId++, kind: 'metrics' }),
    async close() {
      const thread = worker;
      worker = null;
      if (!thread) return;
      const exited = once(thread, 'exit');
      await thread.terminate();
      await exited.catch(() => undefined);
    },
  };
}

const toBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
