/**
 * Readers for the two large answers of a collection cycle, QueryPerfResponse and
 * RetrievePropertiesExResponse, that go from the response text straight to the client's
 * values: no element objects, no frames, no string per number. At 5,000 VMs a steady cycle
 * receives about 13 MB of each, and the generic scanner (xml.ts) spent most of a cycle's CPU
 * on them, most of it before V8 had optimized it, in a process that lives a few seconds
 * (issue #12).
 *
 * They read only the plain shape vCenter and vcsim send: an envelope and the method's
 * response, elements with attributes, text and entity references, any namespace prefixes
 * and whitespace between elements. Values follow xml.ts `elementValue`'s rules (its
 * `leafValue` is shared). Anything else (a comment, CDATA, a DOCTYPE, a SOAP header or fault,
 * a CSV perf result, a `missingSet`, text outside the expected places, a truncated or
 * mismatched document) makes them return null, and the caller parses the answer the generic
 * way, which handles or refuses every document: these readers never guess.
 */
import { decodeEntities, detach, leafValue, SOAP_ENV_NS, XSI_NS } from './xml.ts';

/** One entity's samples, as client.ts `PerfEntityMetric`. */
export interface ScannedPerfEntity {
  readonly entity: { readonly type: string; readonly value: string };
  /** Ascending by time. */
  readonly samples: readonly { readonly tsSec: number; readonly intervalSec: number }[];
  /** `values[i]` belongs to `samples[i]` (a series shorter than the samples is kept as sent). */
  readonly series: readonly { readonly counterId: number; readonly instance: string; readonly values: readonly number[] }[];
}

/** One object of a RetrievePropertiesEx page, as client.ts `ObjectContent` (with no missing paths). */
export interface ScannedObject {
  readonly obj: { readonly type: string; readonly value: string };
  readonly props: Readonly<Record<string, unknown>>;
  readonly missing: readonly string[];
}

class NotPlain extends Error {}

const notPlain = new NotPlain('not a plain answer');
const XSD_NS = 'http://www.w3.org/2001/XMLSchema';

/**
 * Whether `text` holds `part` at `at`. V8's `startsWith` compares a character at a time
 * (about 4 ns each in Node 20); comparing a cut-out view for equality compares memory, faster
 * beyond a dozen characters (the view is not kept: young garbage).
 */
function holds(text: string, part: string, at: number): boolean {
  return part.length < 16 ? text.startsWith(part, at) : text.slice(at, at + part.length) === part;
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** Namespace declarations in scope: one link per declaring element, innermost first. */
interface Scope {
  readonly prefix: string;
  readonly ns: string;
  readonly parent: Scope | null;
}

function lookup(scope: Scope | null, prefix: string): string | undefined {
  for (let s = scope; s !== null; s = s.parent) if (s.prefix === prefix) return s.ns;
  return undefined;
}

/**
 * A cursor over the document: start tags (local name, attribute range), end tags and text,
 * nothing else. Every step checks what it expects and throws `notPlain` otherwise.
 */
class Cursor {
  pos = 0;
  /** Local name of the last start tag, where it starts, its first colon (or -1), where its attributes start and end, whether it closed itself. */
  local = '';
  tagStart = 0;
  private colon = -1;
  attrsStart = 0;
  attrsEnd = 0;
  selfClosed = false;
  /** Qualified names of the open elements: an end tag must repeat its start tag's name exactly. */
  private readonly open: string[] = [];
  /** Their local names. */
  private readonly openLocal: string[] = [];

  constructor(readonly text: string) {}

  skipSpaces(): void {
    const text = this.text;
    let at = this.pos;
    while (isSpace(text.charCodeAt(at))) at++;
    this.pos = at;
  }

  /** At `<name` (after spaces): reads a start tag and returns its local name; null at an end tag (left unread). */
  startTag(): string | null {
    const text = this.text;
    let at = this.pos;
    let code = text.charCodeAt(at);
    while (isSpace(code)) code = text.charCodeAt(++at);
    this.pos = at;
    if (code !== 0x3c /* < */) throw notPlain;
    const next = text.charCodeAt(at + 1);
    if (next === 0x2f /* / */) return null;
    // Comments, CDATA, declarations, processing instructions: not in a plain answer.
    if (next === 0x21 || next === 0x3f) throw notPlain;
    this.tagStart = at;
    const nameStart = at + 1;
    let nameEnd = nameStart;
    let colon = -1;
    // The name is compared in place with the names seen before (hashed while it is scanned), not cut out.
    let hash = 0;
    let localHash = 0;
    for (;;) {
      code = text.charCodeAt(nameEnd);
      if (code === 0x3e /* > */ || code === 0x2f || isSpace(code)) break;
      if (Number.isNaN(code) || code === 0x3c) throw notPlain;
      if (code === 0x3a /* : */ && colon < 0) {
        colon = nameEnd;
        localHash = 0;
      } else localHash = (Math.imul(localHash, 31) + code) | 0;
      hash = (Math.imul(hash, 31) + code) | 0;
      nameEnd++;
    }
    if (nameEnd === nameStart) throw notPlain;
    const qname = this.name(nameStart, nameEnd, hash);
    this.colon = colon;
    this.local = colon < 0 ? qname : this.name(colon + 1, nameEnd, localHash);
    // The tag ends at the first `>` outside quoted attribute values.
    let end: number;
    if (code === 0x3e) end = nameEnd;
    else {
      let from = nameEnd;
      for (;;) {
        const gt = text.indexOf('>', from);
        if (gt < 0) throw notPlain;
        const quote = this.nextQuote(from, gt);
        if (quote < 0) {
          end = gt;
          break;
        }
        const close = text.indexOf(text.charAt(quote), quote + 1);
        if (close < 0) throw notPlain;
        from = close + 1;
      }
    }
    this.selfClosed = end > nameEnd && text.charCodeAt(end - 1) === 0x2f;
    this.attributesRead = false;
    this.attrsStart = nameEnd;
    this.attrsEnd = this.selfClosed ? end - 1 : end;
    this.pos = end + 1;
    if (!this.selfClosed) this.push(qname, this.local);
    return this.local;
  }

  /** The prefix of the last start tag ('' without one). */
  get prefix(): string {
    return this.colon < 0 ? '' : this.text.slice(this.tagStart + 1, this.colon);
  }

  /** The qualified name of the innermost open element. */
  get innermost(): string {
    return this.open[this.open.length - 1] ?? '';
  }

  /** Opens an element read without `startTag` (a fast path that compared its whole start tag). */
  push(qname: string, local: string): void {
    this.open.push(qname);
    this.openLocal.push(local);
  }

  /**
   * The text in [start, end) as a string seen before in this document when it is one (same
   * hash slot, same characters), else cut out, detached and remembered: element names repeat
   * on every object.
   */
  name(start: number, end: number, hash: number): string {
    const slot = hash & (this.seen.length - 1);
    const known = this.seen[slot] ?? '';
    if (known.length === end - start && holds(this.text, known, start)) return known;
    const fresh = detach(this.text.slice(start, end));
    this.seen[slot] = fresh;
    return fresh;
  }

  private readonly seen: string[] = new Array<string>(256).fill('');

  /** Where the next single and double quotes are, or -1 (kept: single quotes are rare, and searching for one again would scan the rest of the text). */
  private double = -2;
  private single = -2;

  /** The first quote in [from, before), or -1. */
  private nextQuote(from: number, before: number): number {
    if (this.double !== -1 && this.double < from) this.double = this.text.indexOf('"', from);
    if (this.single !== -1 && this.single < from) this.single = this.text.indexOf("'", from);
    const d = this.double >= 0 && this.double < before ? this.double : -1;
    const s = this.single >= 0 && this.single < before ? this.single : -1;
    if (d < 0) return s;
    return s < 0 || d < s ? d : s;
  }

  /** Whether the start tag just read has attributes. */
  get hasAttributes(): boolean {
    for (let at = this.attrsStart; at < this.attrsEnd; at++) if (!isSpace(this.text.charCodeAt(at))) return true;
    return false;
  }

  /** Whether the start tag just read has attributes nobody read: not expected on the leaves read as text. */
  private get unreadAttributes(): boolean {
    return !this.attributesRead && this.attrsEnd > this.attrsStart && this.hasAttributes;
  }

  private attributesRead = false;

  /** Reads the end tag of the innermost open element, whose local name the caller expects to be `local`. */
  endTag(local: string): void {
    const text = this.text;
    let at = this.pos;
    while (isSpace(text.charCodeAt(at))) at++;
    const qname = this.open.pop();
    if (qname === undefined || this.openLocal.pop() !== local) throw notPlain;
    if (text.charCodeAt(at) !== 0x3c || text.charCodeAt(at + 1) !== 0x2f || !text.startsWith(qname, at + 2)) throw notPlain;
    let end = at + 2 + qname.length;
    while (isSpace(text.charCodeAt(end))) end++;
    if (text.charCodeAt(end) !== 0x3e /* > */) throw notPlain;
    this.pos = end + 1;
  }

  /** The text up to the next tag, as is (entities decoded). */
  textUntilTag(): string {
    const text = this.text;
    const lt = text.indexOf('<', this.pos);
    if (lt < 0) throw notPlain;
    const raw = text.slice(this.pos, lt);
    this.pos = lt;
    return raw.includes('&') ? decodeEntities(raw) : raw;
  }

  /** The text of a leaf element whose start tag was just read, and its end tag. */
  leafText(local: string): string {
    if (this.unreadAttributes) throw notPlain;
    if (this.selfClosed) return '';
    const raw = this.textUntilTag();
    this.endTag(local);
    return raw;
  }

  /** Where the integer `integerAt` read ends. */
  integerEnd = 0;

  /**
   * The integer written at `at` (an optional `-`, 1 to 15 digits: exact in a double), ending at
   * `integerEnd`; NaN when there is none of at most 15 digits.
   */
  integerAt(at: number): number {
    const text = this.text;
    let negative = false;
    if (text.charCodeAt(at) === 0x2d /* - */) {
      negative = true;
      at++;
    }
    const digitsStart = at;
    let n = 0;
    for (;;) {
      const code = text.charCodeAt(at);
      // Written so that NaN (past the end of a cut document) ends the digits too.
      if (!(code >= 0x30 && code <= 0x39)) break;
      n = n * 10 + (code - 0x30);
      at++;
    }
    if (at === digitsStart || at - digitsStart > 15) return NaN;
    this.integerEnd = at;
    return negative ? -n : n;
  }

  /** An integer leaf (`<value>-1</value>`), read in place; other numbers the generic way. */
  leafInteger(local: string): number {
    if (this.selfClosed || this.unreadAttributes) throw notPlain;
    const n = this.integerAt(this.pos);
    if (Number.isNaN(n) || this.text.charCodeAt(this.integerEnd) !== 0x3c) {
      // Not a plain integer of at most 15 digits.
      const value = Number(this.leafText(local).trim());
      if (!Number.isFinite(value)) throw notPlain;
      return value;
    }
    this.pos = this.integerEnd;
    this.endTag(local);
    return n;
  }

  /**
   * At `<value>N</value>` exactly (no prefix, attributes or spaces, N an integer of at most 15
   * digits): reads it and returns N; else null, nothing read (the general path reads it).
   */
  plainIntegerValue(): number | null {
    const text = this.text;
    if (!text.startsWith('<value>', this.pos)) return null;
    const n = this.integerAt(this.pos + 7);
    if (Number.isNaN(n) || !text.startsWith('</value>', this.integerEnd)) return null;
    this.pos = this.integerEnd + 8;
    return n;
  }

  /** The TagInfo of start tags without attributes under `parent` (the last parent asked for). */
  plainTag(parent: Scope | null): TagInfo {
    if (parent !== this.plainParent || this.plainInfo === null) {
      this.plainInfo = { scope: parent, type: null, xsd: false, moType: undefined, array: false };
      this.plainParent = parent;
    }
    return this.plainInfo;
  }

  private plainParent: Scope | null = null;
  private plainInfo: TagInfo | null = null;

  /**
   * What recent attribute texts said under a given scope (the same few repeat on thousands of
   * elements: `XMLSchema-instance:type="PerfMetricIntSeries"` on every series), compared in place.
   */
  private readonly tags: { parent: Scope | null; raw: string; info: TagInfo }[] = [];
  private nextTag = 0;

  knownTag(parent: Scope | null): TagInfo | null {
    const length = this.attrsEnd - this.attrsStart;
    const tags = this.tags;
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i];
      if (tag !== undefined && tag.parent === parent && tag.raw.length === length && holds(this.text, tag.raw, this.attrsStart)) {
        this.attributesRead = true;
        return tag.info;
      }
    }
    return null;
  }

  rememberTag(parent: Scope | null, info: TagInfo): void {
    this.tags[this.nextTag] = { parent, raw: this.text.slice(this.attrsStart, this.attrsEnd), info };
    this.nextTag = (this.nextTag + 1) % 32;
  }

  /** Attribute names and values of the start tag just read (`readAttributes`), valid until the next one. */
  readonly names: string[] = [];
  readonly values: string[] = [];

  /** Reads the attributes of the start tag just read into `names` and `values`; returns their count. */
  readAttributes(): number {
    this.attributesRead = true;
    const text = this.text;
    let at = this.attrsStart;
    const end = this.attrsEnd;
    let count = 0;
    for (;;) {
      while (at < end && isSpace(text.charCodeAt(at))) at++;
      if (at >= end) return count;
      const nameStart = at;
      while (at < end && text.charCodeAt(at) !== 0x3d /* = */ && !isSpace(text.charCodeAt(at))) at++;
      const name = text.slice(nameStart, at);
      while (at < end && isSpace(text.charCodeAt(at))) at++;
      if (text.charCodeAt(at) !== 0x3d || name === '') throw notPlain;
      at++;
      while (at < end && isSpace(text.charCodeAt(at))) at++;
      const quote = text.charCodeAt(at);
      if (quote !== 0x22 && quote !== 0x27) throw notPlain;
      const valueEnd = text.indexOf(quote === 0x22 ? '"' : "'", at + 1);
      if (valueEnd < 0 || valueEnd >= end) throw notPlain;
      const raw = text.slice(at + 1, valueEnd);
      this.names[count] = name;
      this.values[count] = raw.includes('&') ? decodeEntities(raw) : raw;
      count++;
      at = valueEnd + 1;
    }
  }
}

/** What the attributes of a start tag say: new namespace declarations, xsi:type, a MoRef `type`. */
interface TagInfo {
  /** Shared by every element with the same attributes under the same scope: never changed once read. */
  scope: Scope | null;
  /** Local name of the xsi:type (detached from the document), or null. */
  type: string | null;
  /** Whether that xsi:type is an XML Schema type (xsd:int...). */
  xsd: boolean;
  /** The plain `type` attribute (ManagedObjectReference), detached from the document. */
  moType: string | undefined;
  /** Whether the xsi:type is an `ArrayOf...`. */
  array: boolean;
}

function readTag(c: Cursor, parent: Scope | null): TagInfo {
  if (c.attrsEnd === c.attrsStart) return c.plainTag(parent);
  const known = c.knownTag(parent);
  if (known !== null) return known;
  const info: TagInfo = { scope: parent, type: null, xsd: false, moType: undefined, array: false };
  const count = c.readAttributes();
  let typed = -1;
  for (let i = 0; i < count; i++) {
    const name = c.names[i] ?? '';
    const value = c.values[i] ?? '';
    if (name === 'xmlns') info.scope = { prefix: '', ns: value, parent: info.scope };
    else if (name.startsWith('xmlns:')) {
      const prefix = name.slice(6);
      // vcsim declares the same namespace again on every value: no new link for that.
      if (lookup(info.scope, prefix) !== value) info.scope = { prefix, ns: value, parent: info.scope };
    } else if (name === 'type') info.moType = detach(value);
    else if (name.endsWith(':type')) typed = typed < 0 ? i : typed;
  }
  // `prefix:type` attributes, resolved once every declaration of the tag is known; the last one bound to XSI counts.
  for (let i = typed < 0 ? count : typed; i < count; i++) {
    const name = c.names[i] ?? '';
    if (!name.endsWith(':type') || name.startsWith('xmlns:')) continue;
    const prefix = name.slice(0, -5);
    if ((lookup(info.scope, prefix) ?? prefix) !== XSI_NS) continue;
    const value = c.values[i] ?? '';
    const colon = value.indexOf(':');
    const typePrefix = colon < 0 ? '' : value.slice(0, colon);
    info.type = detach(colon < 0 ? value : value.slice(colon + 1));
    info.xsd = lookup(info.scope, typePrefix) === XSD_NS || typePrefix === 'xsd' || typePrefix === 'xs';
  }
  info.array = info.type !== null && info.type.startsWith('ArrayOf');
  c.rememberTag(parent, info);
  return info;
}

/** xml.ts `leafValue`, the MoRef type taken as detached once per tag instead of once per value. */
function leaf(text: string, tag: TagInfo): unknown {
  if (tag.moType !== undefined) return { type: tag.moType, value: detach(text) };
  return leafValue(text, tag.type, tag.xsd, undefined);
}

/**
 * The value of the element whose start tag was just read (its attributes in `c`), by the
 * rules of xml.ts `elementValue`, up to and including its end tag.
 */
function readValue(c: Cursor, parent: Scope | null): unknown {
  const local = c.local;
  return readContent(c, readTag(c, parent), local);
}

/** `readValue` once the start tag's attributes are known (`tag`). */
function readContent(c: Cursor, tag: TagInfo, local: string): unknown {
  if (c.selfClosed) return tag.array ? [] : leaf('', tag);
  const text = c.text;
  const lt = text.indexOf('<', c.pos);
  if (lt < 0) throw notPlain;
  if (text.charCodeAt(lt + 1) === 0x2f /* / */) {
    const raw = tag.array ? '' : text.slice(c.pos, lt);
    c.pos = lt;
    c.endTag(local);
    return tag.array ? [] : leaf(decodeEntities(raw), tag);
  }
  // Children (text beside them is not part of a value).
  c.pos = lt;
  if (tag.array) {
    const list: unknown[] = [];
    for (let name = c.startTag(); name !== null; name = nextTag(c)) list.push(readValue(c, tag.scope));
    c.endTag(local);
    return list;
  }
  const record: Record<string, unknown> = {};
  if (tag.type !== null) record['$type'] = tag.type;
  let repeated = null as Set<string> | null;
  for (let name = c.startTag(); name !== null; name = nextTag(c)) {
    const value = readValue(c, tag.scope);
    const existing = record[name];
    if (existing === undefined || name === '$type') record[name] = value;
    else if (repeated?.has(name) === true) (existing as unknown[]).push(value);
    else {
      record[name] = [existing, value];
      (repeated ??= new Set()).add(name);
    }
  }
  c.endTag(local);
  return record;
}

/** The next sibling start tag after skipping text between elements, or null at the parent's end tag. */
function nextTag(c: Cursor): string | null {
  const lt = c.text.indexOf('<', c.pos);
  if (lt < 0) throw notPlain;
  c.pos = lt;
  return c.startTag();
}

/** Reads the envelope up to the start tag of `<method>Response`, whose local name it checks. */
function openEnvelope(c: Cursor, method: string): Scope | null {
  const text = c.text;
  if (text.charCodeAt(0) === 0xfeff) c.pos = 1;
  c.skipSpaces();
  if (text.startsWith('<?xml', c.pos)) {
    const end = text.indexOf('?>', c.pos);
    if (end < 0) throw notPlain;
    c.pos = end + 2;
  }
  if (c.startTag() !== 'Envelope' || c.selfClosed) throw notPlain;
  const envelope = readTag(c, null);
  if (lookup(envelope.scope, c.prefix) !== SOAP_ENV_NS) throw notPlain;
  if (c.startTag() !== 'Body' || c.selfClosed) throw notPlain;
  const body = readTag(c, envelope.scope);
  if (c.startTag() !== `${method}Response`) throw notPlain;
  return readTag(c, body.scope).scope;
}

/** Reads the end of the method's response, the body and the envelope: nothing may follow. */
function closeEnvelope(c: Cursor, method: string, selfClosed: boolean): void {
  if (!selfClosed) c.endTag(`${method}Response`);
  c.endTag('Body');
  c.endTag('Envelope');
  c.skipSpaces();
  if (c.pos !== c.text.length) throw notPlain;
}

/**
 * Unix seconds of the xsd:dateTimes of one answer, each text parsed once where entities share
 * their timestamps (history queries); vcsim's realtime ones differ from entity to entity.
 */
class Timestamps {
  /** The raw texts (no entity reference) of the previous entity's samples by index, compared in place. */
  private readonly raws: string[] = [];
  private readonly rawSecs: number[] = [];
  /** Texts read the general way, entities decoded. */
  private readonly decoded = new Map<string, number>();

  /** The seconds of sample `index`'s text in [start, end) of `text`; NaN when it holds an entity reference (read it the general way). */
  raw(text: string, start: number, end: number, index: number): number {
    const known = this.raws[index];
    if (known !== undefined && known.length === end - start && holds(text, known, start)) return this.rawSecs[index] ?? NaN;
    const raw = text.slice(start, end);
    if (raw.includes('&')) return NaN;
    const sec = parseTimestamp(raw);
    this.raws[index] = detach(raw);
    this.rawSecs[index] = sec;
    return sec;
  }

  /** The seconds of a timestamp's text, entities decoded. */
  of(text: string): number {
    let sec = this.decoded.get(text);
    if (sec === undefined) {
      sec = parseTimestamp(text);
      this.decoded.set(text, sec);
    }
    return sec;
  }
}

function parseTimestamp(text: string): number {
  const ms = Date.parse(text.trim());
  if (Number.isNaN(ms)) throw notPlain;
  return Math.floor(ms / 1000);
}

const SAMPLE_INFO = '<sampleInfo><timestamp>';
const TIMESTAMP_TO_INTERVAL = '</timestamp><interval>';
const INTERVAL_END = '</interval></sampleInfo>';

/**
 * At `<sampleInfo><timestamp>T</timestamp><interval>N</interval></sampleInfo>` exactly (how
 * vcsim and vCenter write them): reads it into `tsSec` and `intervals`; else false, nothing read.
 */
function plainSampleInfo(c: Cursor, timestamps: Timestamps, tsSec: number[], intervals: number[]): boolean {
  const text = c.text;
  const at = c.pos + SAMPLE_INFO.length;
  const lt = text.indexOf('<', at);
  if (lt < 0 || !holds(text, TIMESTAMP_TO_INTERVAL, lt)) return false;
  const interval = c.integerAt(lt + TIMESTAMP_TO_INTERVAL.length);
  if (Number.isNaN(interval) || !holds(text, INTERVAL_END, c.integerEnd)) return false;
  const ts = timestamps.raw(text, at, lt, tsSec.length);
  if (Number.isNaN(ts)) return false;
  tsSec.push(ts);
  intervals.push(interval);
  c.pos = c.integerEnd + INTERVAL_END.length;
  return true;
}

/** The start tag of the entity's series (`<value xsi:type="PerfMetricIntSeries">`, as read before under the same scope), then `<id><counterId>`. */
interface SeriesHead {
  readonly head: string;
  /** The character code after its `<`. */
  readonly initial: number;
  readonly scope: Scope | null;
}

const ID_START = '<id><counterId>';
const COUNTER_TO_INSTANCE = '</counterId><instance>';
const ID_END = '</instance></id>';
const VALUE_END = '</value>';

/**
 * At a series whose start tag is `head`'s, written as vcsim and vCenter write it
 * (`<id><counterId>N</counterId><instance>I</instance></id>` then `<value>N</value>` only):
 * reads it; else null, nothing read. `instances` holds the instances seen at each series
 * index before (the entities of an answer have the same counters in the same order).
 */
function plainSeries(c: Cursor, head: string, index: number, instances: string[]): { counterId: number; instance: string; values: number[] } | null {
  const text = c.text;
  const start = c.pos;
  const counterId = c.integerAt(start + head.length);
  if (Number.isNaN(counterId) || !holds(text, COUNTER_TO_INSTANCE, c.integerEnd)) return null;
  const at = c.integerEnd + COUNTER_TO_INSTANCE.length;
  let instance = instances[index];
  if (instance === undefined || !holds(text, instance, at) || !holds(text, ID_END, at + instance.length)) {
    const lt = text.indexOf('<', at);
    if (lt < 0 || !holds(text, ID_END, lt)) return null;
    const raw = text.slice(at, lt);
    if (raw.includes('&')) return null;
    instance = detach(raw);
    instances[index] = instance;
  }
  c.pos = at + instance.length + ID_END.length;
  const values: number[] = [];
  for (let n = c.plainIntegerValue(); n !== null; n = c.plainIntegerValue()) values.push(n);
  if (!text.startsWith(VALUE_END, c.pos)) {
    c.pos = start;
    return null;
  }
  c.pos += VALUE_END.length;
  return { counterId, instance, values };
}

function readPerfEntity(c: Cursor, scope: Scope | null, timestamps: Timestamps, plain: { series: SeriesHead | null; instances: string[] }): ScannedPerfEntity {
  const text = c.text;
  let entity: { type: string; value: string } | null = null;
  const tsSec: number[] = [];
  const intervals: number[] = [];
  const series: { counterId: number; instance: string; values: number[] }[] = [];
  for (;;) {
    c.skipSpaces();
    // The plain forms of the two repeated children, each compared whole; else the general path.
    const initial = text.charCodeAt(c.pos + 1);
    if (initial === 0x73 /* s */ && holds(text, SAMPLE_INFO, c.pos) && plainSampleInfo(c, timestamps, tsSec, intervals)) continue;
    const head = plain.series;
    if (head !== null && initial === head.initial && head.scope === scope && holds(text, head.head, c.pos)) {
      const one = plainSeries(c, head.head, series.length, plain.instances);
      if (one !== null) {
        series.push(one);
        continue;
      }
    }
    const local = c.startTag();
    if (local === null) break;
    if (local === 'entity') {
      const type = readTag(c, scope).moType;
      if (type === undefined || entity !== null) throw notPlain;
      entity = { type, value: detach(c.leafText('entity')) };
    } else if (local === 'sampleInfo') {
      if (c.selfClosed) throw notPlain;
      let ts: number | null = null;
      let interval = 0;
      for (let field = c.startTag(); field !== null; field = c.startTag()) {
        if (field === 'timestamp') ts = timestamps.of(c.leafText('timestamp'));
        else if (field === 'interval') interval = c.leafInteger('interval');
        else throw notPlain;
      }
      c.endTag('sampleInfo');
      if (ts === null) throw notPlain;
      tsSec.push(ts);
      intervals.push(interval);
    } else if (local === 'value') {
      if (c.selfClosed) throw notPlain;
      const tagStart = c.tagStart;
      const tagEnd = c.pos;
      const type = c.hasAttributes ? readTag(c, scope).type : null;
      if (type !== null && type !== 'PerfMetricIntSeries') throw notPlain;
      // This start tag, followed by the plain id, is what the next series are compared with.
      if (holds(text, ID_START, tagEnd)) plain.series = { head: text.slice(tagStart, tagEnd + ID_START.length), initial: text.charCodeAt(tagStart + 1), scope };
      let counterId: number | null = null;
      let instance = '';
      const values: number[] = [];
      for (let field = c.startTag(); field !== null; field = c.startTag()) {
        if (field === 'value') {
          values.push(c.leafInteger('value'));
          // The run of values that follows, read without the general tag path (most of an answer).
          for (let n = c.plainIntegerValue(); n !== null; n = c.plainIntegerValue()) values.push(n);
        } else if (field === 'id') {
          if (c.selfClosed) throw notPlain;
          for (let part = c.startTag(); part !== null; part = c.startTag()) {
            if (part === 'counterId') counterId = c.leafInteger('counterId');
            else if (part === 'instance') instance = detach(c.leafText('instance'));
            else throw notPlain;
          }
          c.endTag('id');
        } else throw notPlain;
      }
      c.endTag('value');
      if (counterId === null) throw notPlain;
      series.push({ counterId, instance, values });
    } else throw notPlain;
  }
  c.endTag('returnval');
  if (entity === null) throw notPlain;
  const ordered = inTimeOrder(tsSec, intervals, series);
  return { entity, samples: ordered.samples, series: ordered.series };
}

/** Samples ascending (vCenter and vcsim send them newest first), series values alike. */
function inTimeOrder(
  tsSec: number[],
  intervals: number[],
  series: { counterId: number; instance: string; values: number[] }[],
): Pick<ScannedPerfEntity, 'samples' | 'series'> {
  const count = tsSec.length;
  let ascending = true;
  let descending = true;
  for (let i = 1; i < count; i++) {
    const d = (tsSec[i] ?? 0) - (tsSec[i - 1] ?? 0);
    if (d < 0) ascending = false;
    if (d > 0) descending = false;
  }
  let order: number[] | null = null;
  if (!ascending) {
    order = new Array<number>(count);
    for (let i = 0; i < count; i++) order[i] = descending ? count - 1 - i : i;
    if (!descending) order.sort((a, b) => (tsSec[a] ?? 0) - (tsSec[b] ?? 0));
  }
  // Arrays of their exact length (grown by push they keep spare room, and the cycle holds every answer's).
  const samples = new Array<{ tsSec: number; intervalSec: number }>(count);
  for (let i = 0; i < count; i++) {
    const from = order ? (order[i] ?? 0) : i;
    samples[i] = { tsSec: tsSec[from] ?? NaN, intervalSec: intervals[from] ?? 0 };
  }
  if (order) {
    for (const s of series) {
      if (s.values.length !== count) continue;
      // Newest first, as vcsim and vCenter send them: reversed in place (a second array per
      // series was a fifth of the old generation's garbage in a history import).
      if (descending) {
        s.values.reverse();
        continue;
      }
      const values = new Array<number>(count);
      for (let i = 0; i < count; i++) values[i] = s.values[order[i] ?? 0] ?? -1;
      s.values = values;
    }
  }
  return { samples, series };
}

function guard<T>(read: () => T): T | null {
  try {
    return read();
  } catch (error) {
    if (error instanceof NotPlain) return null;
    throw error;
  }
}

/**
 * The results of a QueryPerfResponse text, or null when the text is not the plain shape
 * this reader knows (then parse it with xml.ts: it may be a fault, a CSV answer or garbage).
 */
export function scanQueryPerfResponse(text: string): ScannedPerfEntity[] | null {
  return guard(() => {
    const c = new Cursor(text);
    const scope = openEnvelope(c, 'QueryPerf');
    const out: ScannedPerfEntity[] = [];
    const timestamps = new Timestamps();
    const plain = { series: null as SeriesHead | null, instances: [] as string[] };
    const selfClosed = c.selfClosed;
    if (!selfClosed) {
      for (let local = c.startTag(); local !== null; local = c.startTag()) {
        if (local !== 'returnval' || c.selfClosed) throw notPlain;
        const tag = readTag(c, scope);
        if (tag.type !== null && tag.type !== 'PerfEntityMetric') throw notPlain;
        out.push(readPerfEntity(c, tag.scope, timestamps, plain));
      }
    }
    closeEnvelope(c, 'QueryPerf', selfClosed);
    return out;
  });
}

/**
 * The head of a propSet as read at the same index of a previous object: `<propSet><name>`,
 * its name, `</name>` and the value's start tag, compared whole with the next objects' (the
 * objects of a page have the same properties in the same order).
 */
interface PropSetHead {
  readonly head: string;
  /** The scope of the object it was read in. */
  readonly scope: Scope | null;
  readonly name: string;
  readonly valQname: string;
  readonly valTag: TagInfo;
  readonly selfClosed: boolean;
  /** `</val></propSet>` with the value's qualified name: how a leaf value's text ends. */
  readonly leafEnd: string;
}

const PROPSET_START = '<propSet><name>';
const NAME_END = '</name>';

/** Reads one object's children after its start tag, into `props`; returns its MoRef. */
function readObject(c: Cursor, objectScope: Scope | null, heads: (PropSetHead | undefined)[], props: Record<string, unknown>): { type: string; value: string } {
  const text = c.text;
  let obj: { type: string; value: string } | null = null;
  for (let index = 0; ; index++) {
    c.skipSpaces();
    const start = c.pos;
    const known = heads[index];
    let name: string | null = null;
    let val: unknown;
    if (known !== undefined && known.scope === objectScope && holds(text, known.head, start)) {
      // The same head as the previous object's at this index: its name and value tag are known.
      const after = start + known.head.length;
      if (!known.selfClosed && !known.valTag.array) {
        // A leaf value and the end of the propSet, compared whole.
        const lt = text.indexOf('<', after);
        if (lt >= 0 && holds(text, known.leafEnd, lt)) {
          props[known.name] = leaf(decodeEntities(text.slice(after, lt)), known.valTag);
          c.pos = lt + known.leafEnd.length;
          continue;
        }
      }
      c.pos = after;
      c.push('propSet', 'propSet');
      if (!known.selfClosed) c.push(known.valQname, 'val');
      c.selfClosed = known.selfClosed;
      name = known.name;
      val = readContent(c, known.valTag, 'val');
    } else {
      const part = c.startTag();
      if (part === null) break;
      if (part === 'obj') {
        const type = readTag(c, objectScope).moType;
        if (type === undefined || obj !== null) throw notPlain;
        obj = { type, value: detach(c.leafText('obj')) };
        index--;
        continue;
      }
      if (part !== 'propSet' || c.selfClosed) throw notPlain;
      const propScope = readTag(c, objectScope).scope;
      for (let item = c.startTag(); item !== null; item = c.startTag()) {
        if (item === 'name' && name === null) name = detach(c.leafText('name'));
        else if (item === 'val' && val === undefined) {
          const valStart = c.tagStart;
          const valQname = c.selfClosed ? '' : c.innermost;
          const selfClosed = c.selfClosed;
          const valTag = readTag(c, propScope);
          const valTagText = text.slice(valStart, c.pos);
          // Remembered when the head is exactly `<propSet><name>NAME</name><val...>`, NAME its own text (no entity).
          if (name !== null && propScope === objectScope && text.startsWith(PROPSET_START, start)) {
            const head = text.slice(start, c.pos);
            if (head === `${PROPSET_START}${name}${NAME_END}${valTagText}`) heads[index] = { head, scope: objectScope, name, valQname, valTag, selfClosed, leafEnd: `</${valQname}></propSet>` };
          }
          val = readContent(c, valTag, 'val');
        } else throw notPlain;
      }
      c.endTag('propSet');
      if (name !== null && val !== undefined) props[name] = val;
      continue;
    }
    // The rest of the propSet: nothing, in a plain answer.
    if (c.startTag() !== null) throw notPlain;
    c.endTag('propSet');
    props[name] = val;
  }
  if (obj === null) throw notPlain;
  return obj;
}

/**
 * The objects and paging token of a RetrievePropertiesEx (or ContinueRetrievePropertiesEx)
 * response text, or null when it is not the plain shape (a fault, a missingSet, garbage...).
 */
export function scanRetrieveResponse(
  text: string,
  method: 'RetrievePropertiesEx' | 'ContinueRetrievePropertiesEx',
): { objects: ScannedObject[]; token: string | null } | null {
  // Missing properties carry faults (vcsim reports an expired session that way): the generic path.
  if (text.includes('missingSet>')) return null;
  return guard(() => {
    const c = new Cursor(text);
    const scope = openEnvelope(c, method);
    const objects: ScannedObject[] = [];
    const heads: (PropSetHead | undefined)[] = [];
    let token: string | null = null;
    const selfClosed = c.selfClosed;
    let returnvals = 0;
    if (!selfClosed) {
      for (let local = c.startTag(); local !== null; local = c.startTag()) {
        if (local !== 'returnval' || ++returnvals > 1) throw notPlain;
        const result = readTag(c, scope);
        if (c.selfClosed) continue;
        for (let field = c.startTag(); field !== null; field = c.startTag()) {
          if (field === 'token') {
            const value = c.leafText('token');
            token = value === '' ? null : detach(value);
          } else if (field === 'objects') {
            if (c.selfClosed) throw notPlain;
            const objectScope = readTag(c, result.scope).scope;
            const props: Record<string, unknown> = {};
            const obj = readObject(c, objectScope, heads, props);
            c.endTag('objects');
            objects.push({ obj, props, missing: [] });
          } else throw notPlain;
        }
        c.endTag('returnval');
      }
    }
    closeEnvelope(c, method, selfClosed);
    return { objects, token };
  });
}
