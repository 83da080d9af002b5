/**
 * The series route's JSON, cached where it cannot change.
 *
 * A year of one VM is 366 buckets of 15 metrics: ~80 KB of JSON and a few milliseconds of
 * reads, decoding and number formatting. Almost all of it is final: realtime writes only touch
 * an entity's newest buckets (see Store.seriesWatermark). So the cache keeps each answer's
 * body in pieces: each array's opening text with its final buckets (parts, which stay), and
 * the buckets after them (slots):
 *   - while the entity's high-water mark has not moved, the body is served as it is;
 *   - when it has, only the buckets after the final ones (usually one) are read again, as
 *     new slots;
 *   - a history import or a retention run (the store's history version), a rename, or a new
 *     bucket at the end of the period rebuilds it.
 * The body is byte for byte what `JSON.stringify(seriesResponse(...))` gives
 * (series-cache.test.ts checks it through writes, imports, retention and renames); it is
 * joined only for a client that does not take gzip.
 *
 * Gzip (for the clients that accept it) is spliced the same way (spliced-gzip.ts): the parts
 * are compressed once, the slots go in stored blocks, padded with spaces to a width kept free
 * for them. So a changed body is gzipped on the main thread by copying the last gzip (~19 KB
 * for a year) and writing the slots into it, without compressing anything again (compressing
 * a year, ~105 KB, took ~0.8 ms of a pool thread and ~0.2 ms of the event loop's stream
 * handling), and is never sent plain to a client that accepts gzip (writing 105 KB to a socket
 * costs the main thread more than that). The gzipped text is the body with those spaces,
 * before a `]`. Without a watermark (an engine), a body is gzipped whole, in the thread pool.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { metricsByKind } from '../shared/metrics.ts';
import { firstOpenBucketSec, type Store, type StoredEntity } from '../store/store.ts';
import { minGzipBytes, type PreparedBody } from './prepared-body.ts';
import { jsonItemsOf } from './json-numbers.ts';
import { assembleGzip, gzipFrame, type GzipFrame } from './spliced-gzip.ts';
import { seriesColumns, seriesResponse, type SeriesPlan } from './series.ts';
import { entityName } from './views.ts';

/** A body whose spliced part has grown to this many buckets is rebuilt, so that the part read per request stays small. */
const maxSplicedBuckets = 12;

/**
 * Room left in each array's gzip slot for its spliced items to grow (values getting wider,
 * nulls filled), bytes; past it, the final items are compressed again.
 */
const slotSlackBytes = 16;

interface Entry {
  readonly historyVersion: number;
  readonly toBucketSec: number;
  readonly name: string;
  /** Buckets before this are final (in the body as they will stay); the rest are spliced. */
  readonly finalEndSec: number;
  /** The high-water mark the body reflects. */
  readonly highWaterSec: number | null;
  /**
   * The body as `parts[0] slots[0] parts[1] ... parts[n]`: a part is the text before an array's
   * items (ts, then avg, min and max of each metric) with its final items, and stays as long as
   * the entry is spliced; a slot is that array's spliced items, with their comma.
   */
  readonly parts: readonly Buffer[];
  readonly slots: readonly Buffer[];
  /** Bytes of the body. */
  readonly bodyBytes: number;
  /** The body joined, once a client not accepting gzip asked for it. */
  body: Buffer | null;
  /** The body gzipped, once a client accepting gzip asked for it. */
  gzip: Buffer | null;
  /** The parts compressed (spliced-gzip.ts), sharing `gzip`'s memory once it is made; taken over by the entries spliced from this one. */
  frame: GzipFrame | null;
}

const commaBytes = Buffer.from(',');
const noBytes = Buffer.alloc(0);

/** Each array's spliced items as its slot: with a comma when final items come before them. */
function slotsOf(parts: readonly Buffer[], spliced: readonly Buffer[]): Buffer[] {
  return spliced.map((items, i) => (items.length > 0 && (parts[i]?.at(-1) ?? 0x5b) !== 0x5b ? Buffer.concat([commaBytes, items]) : items));
}

/** The entry's body, joined. */
function bodyOf(entry: Entry): Buffer {
  const pieces: Buffer[] = [];
  entry.parts.forEach((part, i) => pieces.push(part, entry.slots[i] ?? noBytes));
  return Buffer.concat(pieces, entry.bodyBytes);
}

const sumBytes = (buffers: readonly Buffer[]): number => buffers.reduce((sum, buffer) => sum + buffer.length, 0);

const gzipAsync = promisify(gzip);
/** Level 1, one output chunk: a chunk is one round trip to the pool and its callback. */
const gzipBody = (body: Buffer): Promise<Buffer> => gzipAsync(body, { level: 1, chunkSize: Math.max(16 * 1024, body.length) });

/** The timestamps, then avg, min and max of each column of the plan's metrics (plan order), as JSON items. */
function arrayItems(data: { ts: readonly number[]; columns: readonly { avg: (number | null)[]; min: (number | null)[]; max: (number | null)[] }[] }): Buffer[] {
  return jsonItemsOf([data.ts, ...data.columns.flatMap((column) => [column.avg, column.min, column.max])]);
}

/** Memory an entry holds, bytes (its frame shares its gzip, or an older one's until it is gzipped). */
const sizeOf = (entry: Entry): number => entry.bodyBytes + (entry.body?.length ?? 0) + (entry.gzip?.length ?? entry.frame?.gzip.length ?? 0);

export class SeriesCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  /**
   * How answers were made: served as cached, spliced, built; and compressions (gzip frames
   * made, bodies without a watermark). For tests and benchmarks.
   */
  readonly stats = { served: 0, spliced: 0, built: 0, compressed: 0 };

  /** @param maxBytes memory the cached bodies may take */
  constructor(
    private readonly store: Store,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  /**
   * The series response of the plan, as a JSON body; with `gzip` (the client accepts it), its
   * gzipped body too, ready to send (bodies under minGzipBytes are not compressed).
   */
  async answer(entity: StoredEntity, plan: SeriesPlan, gzip: boolean): Promise<PreparedBody> {
    const watermark = (await this.store.seriesWatermark?.(entity.id)) ?? null;
    if (watermark === null) {
      const json = Buffer.from(JSON.stringify(await seriesResponse(this.store, entity, plan)));
      const zipped = gzip && json.length >= minGzipBytes ? await this.compressed(json) : null;
      return { json, gzip: () => zipped };
    }

    const key = `${entity.id} ${plan.tier} ${String(plan.fromBucketSec)} ${plan.metrics.join(',')}`;
    const name = entityName(entity);
    const old = this.entries.get(key);
    let entry: Entry;
    if (old !== undefined && old.historyVersion === watermark.historyVersion && old.toBucketSec === plan.toBucketSec && old.name === name) {
      if (old.highWaterSec === watermark.highWaterSec) {
        entry = old;
        this.stats.served++;
      } else {
        entry = await this.splice(old, entity, plan, watermark.highWaterSec);
      }
    } else {
      entry = await this.build(entity, plan, name, watermark.historyVersion, watermark.highWaterSec);
    }
    // Another request may have answered the same key meanwhile (a store across the network):
    // the entry read now is the one to replace.
    const current = this.entries.get(key);
    if (current !== undefined) {
      this.entries.delete(key);
      this.bytes -= sizeOf(current);
    }
    if (gzip && entry.gzip === null && entry.bodyBytes >= minGzipBytes) this.zip(entry);
    // Re-inserted: the Map's order is the order of use, oldest first.
    this.entries.set(key, entry);
    this.bytes += sizeOf(entry);
    this.evict();
    const zipped = entry.gzip;
    const joined = (): Buffer => this.joined(key, entry);
    // The body is joined only for a client that takes it plain (a gzip's client never does).
    return {
      get json() {
        return joined();
      },
      gzip: () => zipped,
    };
  }

  /** The entry's body, joined once. */
  private joined(key: string, entry: Entry): Buffer {
    if (entry.body !== null) return entry.body;
    entry.body = bodyOf(entry);
    if (this.entries.get(key) === entry) {
      this.bytes += entry.body.length;
      this.evict();
    }
    return entry.body;
  }

  /** Gzips the entry's body from its frame, making the frame first when it has none or a slot outgrew it. */
  private zip(entry: Entry): void {
    let assembled = entry.frame === null ? null : assembleGzip(entry.frame, entry.slots);
    if (assembled === null) {
      this.stats.compressed++;
      const frame = gzipFrame(entry.parts, entry.slots.map((slot) => slot.length + slotSlackBytes));
      // No frame: a part holds a control byte, which JSON never writes raw; the body goes plain.
      assembled = frame === null ? null : assembleGzip(frame, entry.slots);
    }
    entry.gzip = assembled?.gzip ?? null;
    // Its frame's gzip is this one: the two share their memory.
    entry.frame = assembled?.frame ?? null;
  }

  /** A body without a watermark gzipped whole; null if zlib failed (the body then goes plain). */
  private compressed(body: Buffer): Promise<Buffer | null> {
    this.stats.compressed++;
    return gzipBody(body).catch(() => null);
  }

  private evict(): void {
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= sizeOf(entry);
    }
  }

  /** Entries held, for tests. */
  get size(): number {
    return this.entries.size;
  }

  private async build(entity: StoredEntity, plan: SeriesPlan, name: string, historyVersion: number, highWaterSec: number | null): Promise<Entry> {
    this.stats.built++;
    const { stepSec, fromBucketSec, toBucketSec } = plan;
    const endSec = toBucketSec + stepSec;
    const finalEndSec = Math.min(endSec, Math.max(fromBucketSec, firstOpenBucketSec({ historyVersion, highWaterSec }, stepSec)));
    const final = await seriesColumns(this.store, entity, plan, fromBucketSec, finalEndSec - stepSec);
    const rest = await seriesColumns(this.store, entity, plan, finalEndSec, toBucketSec);
    const defs = new Map(metricsByKind[entity.kind].map((def) => [def.key, def]));
    const head = JSON.stringify({ entity: { id: entity.id, kind: entity.kind, name }, period: plan.period, stepSec, from: fromBucketSec, to: endSec });
    const literals = [`${head.slice(0, -1)},"ts":[`];
    plan.metrics.forEach((metric, i) => {
      const def = defs.get(metric);
      const labels = `{"metric":${JSON.stringify(metric)},"unit":${JSON.stringify(def?.unit ?? '')},"label":${JSON.stringify(def?.label ?? metric)}`;
      literals.push(`]${i === 0 ? ',"series":[' : '},'}${labels},"avg":[`, '],"min":[', '],"max":[');
    });
    literals.push(plan.metrics.length === 0 ? '],"series":[]}' : ']}]}');
    const finals = arrayItems(final);
    const parts = literals.map((text, i) => {
      const items = finals[i];
      return items === undefined ? Buffer.from(text) : Buffer.concat([Buffer.from(text), items]);
    });
    const slots = slotsOf(parts, arrayItems(rest));
    return { historyVersion, toBucketSec, name, finalEndSec, highWaterSec, parts, slots, bodyBytes: sumBytes(parts) + sumBytes(slots), body: null, gzip: null, frame: null };
  }

  /** The entry with its non-final buckets read again; rebuilt when they have become too many. */
  private async splice(entry: Entry, entity: StoredEntity, plan: SeriesPlan, highWaterSec: number | null): Promise<Entry> {
    const finalEndSec = firstOpenBucketSec({ historyVersion: entry.historyVersion, highWaterSec }, plan.stepSec);
    if (finalEndSec - entry.finalEndSec > maxSplicedBuckets * plan.stepSec) {
      return this.build(entity, plan, entry.name, entry.historyVersion, highWaterSec);
    }
    this.stats.spliced++;
    const rest = await seriesColumns(this.store, entity, plan, entry.finalEndSec, plan.toBucketSec);
    const slots = slotsOf(entry.parts, arrayItems(rest));
    const bodyBytes = entry.bodyBytes - sumBytes(entry.slots) + sumBytes(slots);
    return { ...entry, highWaterSec, slots, bodyBytes, body: null, gzip: null };
  }
}
