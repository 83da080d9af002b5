/**
 * The series route's JSON, cached where it cannot change.
 *
 * A year of one VM is 366 buckets of 15 metrics: ~80 KB of JSON and a few milliseconds of
 * reads, decoding and number formatting. Almost all of it is final: realtime writes only touch
 * an entity's newest buckets (see Store.seriesWatermark). So the cache keeps each answer's
 * body, and remembers where in it the final buckets of each array end:
 *   - while the entity's high-water mark has not moved, the body is served as it is;
 *   - when it has, only the buckets after the final ones (usually one) are read again and
 *     spliced into the body;
 *   - a history import or a retention run (the store's history version), a rename, or a new
 *     bucket at the end of the period rebuilds it.
 * The body is byte for byte what `JSON.stringify(seriesResponse(...))` gives
 * (series-cache.test.ts checks it through writes, imports, retention and renames).
 *
 * Gzip (for the clients that accept it) is spliced the same way (spliced-gzip.ts): each
 * array's final items are compressed once with the text before them, the items after them are
 * put in stored blocks, padded with spaces to a width kept free for them. So a changed body is
 * gzipped on the main thread in ~0.16 ms without compressing anything again (compressing a
 * year, ~105 KB, took ~0.8 ms of a pool thread and ~0.2 ms of the event loop's stream
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
  readonly body: Buffer;
  /** The body gzipped, once a client accepting gzip asked for it. */
  gzip: Buffer | null;
  /**
   * The final items compressed (spliced-gzip.ts), views of `gzip` once it is made; taken over
   * by the entries spliced from this one.
   */
  frame: GzipFrame | null;
  /**
   * Byte offsets, three per array (ts, then avg, min, max of each metric): its first item,
   * the end of its final items, its closing bracket.
   */
  readonly cuts: readonly number[];
}

/**
 * Joins `literals[0] array[0] literals[1] ... literals[n]`, each array being its final items
 * and its spliced items, and records the cuts.
 */
function render(literals: readonly Buffer[], finals: readonly Buffer[], spliced: readonly Buffer[]): { body: Buffer; cuts: number[] } {
  const pieces: Buffer[] = [];
  const cuts: number[] = [];
  let at = 0;
  const push = (piece: Buffer): void => {
    pieces.push(piece);
    at += piece.length;
  };
  literals.forEach((literal, i) => {
    push(literal);
    const final = finals[i];
    if (final === undefined) return;
    cuts.push(at);
    push(final);
    cuts.push(at);
    const rest = spliced[i];
    if (rest !== undefined && rest.length > 0) {
      if (final.length > 0) push(commaBytes);
      push(rest);
    }
    cuts.push(at);
  });
  return { body: Buffer.concat(pieces, at), cuts };
}

const commaBytes = Buffer.from(',');

const gzipAsync = promisify(gzip);
/** Level 1, one output chunk: a chunk is one round trip to the pool and its callback. */
const gzipBody = (body: Buffer): Promise<Buffer> => gzipAsync(body, { level: 1, chunkSize: Math.max(16 * 1024, body.length) });

/** The timestamps, then avg, min and max of each column of the plan's metrics (plan order), as JSON items. */
function arrayItems(data: { ts: readonly number[]; columns: readonly { avg: (number | null)[]; min: (number | null)[]; max: (number | null)[] }[] }): Buffer[] {
  return jsonItemsOf([data.ts, ...data.columns.flatMap((column) => [column.avg, column.min, column.max])]);
}

/** Memory an entry holds, bytes (its frame's parts are views of its gzip, or of an older one's until it is gzipped). */
const sizeOf = (entry: Entry): number => entry.body.length + (entry.gzip?.length ?? entry.frame?.bytes ?? 0);

/**
 * The entry's body as gzip frames see it: parts that stay (each array's opening text and final
 * items), and the slots between them (each array's spliced items, with their comma).
 */
function partsOf(entry: Entry): { parts: Buffer[]; slots: Buffer[] } {
  const { body, cuts } = entry;
  const parts: Buffer[] = [];
  const slots: Buffer[] = [];
  let previousEnd = 0;
  for (let i = 0; i + 2 < cuts.length; i += 3) {
    const [finalEnd = 0, close = 0] = [cuts[i + 1], cuts[i + 2]];
    parts.push(body.subarray(previousEnd, finalEnd));
    slots.push(body.subarray(finalEnd, close));
    previousEnd = close;
  }
  parts.push(body.subarray(previousEnd));
  return { parts, slots };
}

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
    if (gzip && entry.gzip === null && entry.body.length >= minGzipBytes) this.zip(entry);
    // Re-inserted: the Map's order is the order of use, oldest first.
    this.entries.set(key, entry);
    this.bytes += sizeOf(entry);
    this.evict();
    const { body, gzip: zipped } = entry;
    return { json: body, gzip: () => zipped };
  }

  /** Gzips the entry's body from its frame, making the frame first when it has none or a slot outgrew it. */
  private zip(entry: Entry): void {
    const { parts, slots } = partsOf(entry);
    let assembled = entry.frame === null ? null : assembleGzip(entry.frame, parts, slots);
    if (assembled === null) {
      this.stats.compressed++;
      const frame = gzipFrame(parts, slots.map((slot) => slot.length + slotSlackBytes));
      // No frame: a part holds a control byte, which JSON never writes raw; the body goes plain.
      assembled = frame === null ? null : assembleGzip(frame, parts, slots);
    }
    entry.gzip = assembled?.gzip ?? null;
    // Its parts are views of this gzip: the two share their memory.
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
    const { body, cuts } = render(
      literals.map((text) => Buffer.from(text)),
      arrayItems(final),
      arrayItems(rest),
    );
    return { historyVersion, toBucketSec, name, finalEndSec, highWaterSec, body, gzip: null, frame: null, cuts };
  }

  /** The entry with its non-final buckets read again; rebuilt when they have become too many. */
  private async splice(entry: Entry, entity: StoredEntity, plan: SeriesPlan, highWaterSec: number | null): Promise<Entry> {
    const finalEndSec = firstOpenBucketSec({ historyVersion: entry.historyVersion, highWaterSec }, plan.stepSec);
    if (finalEndSec - entry.finalEndSec > maxSplicedBuckets * plan.stepSec) {
      return this.build(entity, plan, entry.name, entry.historyVersion, highWaterSec);
    }
    this.stats.spliced++;
    const rest = await seriesColumns(this.store, entity, plan, entry.finalEndSec, plan.toBucketSec);
    const spliced = arrayItems(rest);
    const { body, cuts } = entry;
    const literals: Buffer[] = [];
    const finals: Buffer[] = [];
    let previousEnd = 0;
    for (let i = 0; i + 2 < cuts.length; i += 3) {
      const [first = 0, finalEnd = 0, close = 0] = [cuts[i], cuts[i + 1], cuts[i + 2]];
      literals.push(body.subarray(previousEnd, first));
      finals.push(body.subarray(first, finalEnd));
      previousEnd = close;
    }
    literals.push(body.subarray(previousEnd));
    return { ...entry, highWaterSec, gzip: null, ...render(literals, finals, spliced) };
  }
}
