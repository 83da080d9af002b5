/**
 * The datacenter lists (VMs, datastores) as ready bodies, rebuilt when the store's data
 * changes, but never more often than `maxStaleMs` allows: a collection cycle writes in many
 * small transactions, and a 5,000-VM list should not be rebuilt after each.
 *
 * With `maxStaleMs > 0`, a stale list is still answered at once while one rebuild runs in the
 * background (stale-while-revalidate): while a cycle writes, a request does not wait for a
 * rebuild once a first body exists, and a list lags the store by at most `maxStaleMs` plus one
 * build. Once a cycle has ended, the next request waits for a list that includes it. With
 * `maxStaleMs` 0, every answer reflects the store as it was when the request came.
 */
import type { Logger } from 'pino';
import { preparedBody, type ListBuilder, type ListRequest } from './list-builder.ts';
import type { PreparedBody } from './prepared-body.ts';
import type { Awaitable } from '../store/store.ts';

export interface ListCacheOptions {
  readonly builder: ListBuilder;
  /** The store's data version (Store.dataVersion); undefined: no caching. */
  readonly version: () => Awaitable<number | undefined>;
  /**
   * Moves when a collection cycle ends (e.g. the cycles' end times). A list built before the
   * last cycle ended is never answered stale: users see a finished cycle at once.
   */
  readonly cycleMark: () => Awaitable<string>;
  readonly nowMs: () => number;
  readonly maxStaleMs: number;
  readonly log: Logger;
}

interface Built {
  readonly version: string | undefined;
  readonly cycleMark: string;
  readonly builtAtMs: number;
  readonly body: PreparedBody;
}

export class ListCache {
  private readonly entries = new Map<string, Built>();
  private readonly building = new Map<string, { readonly version: string | undefined; readonly cycleMark: string; readonly promise: Promise<PreparedBody> }>();

  constructor(private readonly options: ListCacheOptions) {}

  async get(request: ListRequest): Promise<PreparedBody> {
    const { version, nowMs, maxStaleMs, log } = this.options;
    const key = `${request.list} ${request.datacenterId} ${String(request.includeRemoved)} ${request.scopeId}`;
    const dataVersion = await version();
    // The hosts' uptime moves with the clock: their list is current for one second of it.
    const current = dataVersion === undefined ? undefined : request.list === 'hosts' ? `${String(dataVersion)}@${String(request.nowSec)}` : String(dataVersion);
    const cycleMark = await this.options.cycleMark();
    const hit = this.entries.get(key);
    if (hit !== undefined && current !== undefined) {
      if (hit.version === current) return hit.body;
      // Stale answers only while a cycle is writing: not past the end of one.
      if (maxStaleMs > 0 && hit.cycleMark === cycleMark) {
        if (nowMs() - hit.builtAtMs >= maxStaleMs && !this.building.has(key)) {
          this.rebuild(key, request, current, cycleMark).catch((error: unknown) =>
            log.warn({ err: error, list: request.list }, 'list rebuild failed; the previous one is kept'),
          );
        }
        return hit.body;
      }
    }
    return this.rebuild(key, request, current, cycleMark);
  }

  private rebuild(key: string, request: ListRequest, version: string | undefined, cycleMark: string): Promise<PreparedBody> {
    const running = this.building.get(key);
    // A build started since the last cycle ended serves (its data includes that cycle).
    if (running !== undefined && running.cycleMark === cycleMark && (running.version === version || this.options.maxStaleMs > 0) && version !== undefined) {
      return running.promise;
    }
    const startedMs = this.options.nowMs();
    const promise = this.options.builder.build(request).then((built) => {
      const body = preparedBody(built);
      // A slower, older build finishing late must not replace a newer list.
      const previous = this.entries.get(key);
      if (previous === undefined || previous.builtAtMs <= startedMs) this.entries.set(key, { version, cycleMark, builtAtMs: startedMs, body });
      return body;
    });
    const entry = { version, cycleMark, promise };
    this.building.set(key, entry);
    const done = (): void => {
      if (this.building.get(key) === entry) this.building.delete(key);
    };
    promise.then(done, done);
    return promise;
  }
}
