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
  /** Local name and prefix of the last start tag, where its attributes start and end, whether it closed itself. */
  local = '';
  prefix = '';
  attrsStart = 0;
  attrsEnd = 0;
  selfClosed = false;
  /** Qualified names of the open elements: an end tag must repeat its start tag's name exactly. */
  private readonly open: string[] = [];

  constructor(readonly text: string) {}

  skipSpaces(): void {
    const text = this.text;
    let at = this.pos;
    while (at < text.length && isSpace(text.charCodeAt(at))) at++;
    this.pos = at;
  }

  /** At `<name` (after spaces): reads a start tag and returns its local name; null at an end tag (left unread). */
  startTag(): string | null {
    this.skipSpaces();
    const text = this.text;
    const at = this.pos;
    if (text.charCodeAt(at) !== 0x3c /* < */) throw notPlain;
    const next = text.charCodeAt(at + 1);
    if (next === 0x2f /* / */) return null;
    // Comments, CDATA, declarations, processing instructions: not in a plain answer.
    if (next === 0x21 || next === 0x3f) throw notPlain;
    let nameEnd = at + 1;
    let colon = -1;
    for (;;) {
      const code = text.charCodeAt(nameEnd);
      if (code === 0x3e /* > */ || code === 0x2f || isSpace(code)) break;
      if (Number.isNaN(code) || code === 0x3c) throw notPlain;
      if (code === 0x3a /* : */ && colon < 0) colon = nameEnd;
      nameEnd++;
    }
    if (nameEnd === at + 1) throw notPlain;
    const qname = text.slice(at + 1, nameEnd);
    this.prefix = colon < 0 ? '' : qname.slice(0, colon - at - 1);
    this.local = colon < 0 ? qname : qname.slice(colon - at);
    // The tag ends at the first `>` outside quoted attribute values.
    let end: number;
    if (text.charCodeAt(nameEnd) === 0x3e) end = nameEnd;
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
    if (!this.selfClosed) this.open.push(qname);
    return this.local;
  }

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
    this.skipSpaces();
    const text = this.text;
    const at = this.pos;
    const qname = this.open.pop();
    if (qname === undefined || text.charCodeAt(at) !== 0x3c || text.charCodeAt(at + 1) !== 0x2f || !text.startsWith(qname, at + 2)) throw notPlain;
    if (!qname.endsWith(local) || (qname.length > local.length && qname.charCodeAt(qname.length - local.length - 1) !== 0x3a)) throw notPlain;
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

  /** An integer leaf (`<value>-1</value>`), read in place; other numbers the generic way. */
  leafInteger(local: string): number {
    if (this.selfClosed || this.unreadAttributes) throw notPlain;
    const text = this.text;
    let at = this.pos;
    let negative = false;
    if (text.charCodeAt(at) === 0x2d /* - */) {
      negative = true;
      at++;
    }
    let n = 0;
    const digitsStart = at;
    for (;;) {
      const code = text.charCodeAt(at);
      if (code < 0x30 || code > 0x39) break;
      n = n * 10 + (code - 0x30);
      at++;
    }
    if (at === digitsStart || text.charCodeAt(at) !== 0x3c || at - digitsStart > 15) {
      // Not a plain integer of at most 15 digits (exact in a double).
      const value = Number(this.leafText(local).trim());
      if (!Number.isFinite(value)) throw notPlain;
      return value;
    }
    this.pos = at;
    this.endTag(local);
    return negative ? -n : n;
  }

  /**
   * At `<value>N</value>` exactly (no prefix, attributes or spaces, N an integer of at most 15
   * digits): reads it and returns N; else null, nothing read (the general path reads it).
   */
  plainIntegerValue(): number | null {
    const text = this.text;
    let at = this.pos;
    if (!text.startsWith('<value>', at)) return null;
    at += 7;
    let negative = false;
    if (text.charCodeAt(at) === 0x2d /* - */) {
      negative = true;
      at++;
    }
    const digitsStart = at;
    let n = 0;
    for (;;) {
      const code = text.charCodeAt(at);
      if (code < 0x30 || code > 0x39) break;
      n = n * 10 + (code - 0x30);
      at++;
    }
    if (at === digitsStart || at - digitsStart > 15 || !text.startsWith('</value>', at)) return null;
    this.pos = at + 8;
    return negative ? -n : n;
  }

  /**
   * What recent attribute texts said under a given scope (the same few repeat on thousands of
   * elements: `XMLSchema-instance:type="PerfMetricIntSeries"` on every series), compared in place.
   */
  private readonly tags: { parent: Scope | null; raw: string; info: TagInfo }[] = [];
  private nextTag = 0;

  knownTag(parent: Scope | null): TagInfo | null {
    const length = this.attrsEnd - this.attrsStart;
    for (const tag of this.tags) {
      if (tag.parent === parent && tag.raw.length === length && this.text.startsWith(tag.raw, this.attrsStart)) {
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
  /** Local name of the xsi:type, or null. */
  type: string | null;
  /** Whether that xsi:type is an XML Schema type (xsd:int...). */
  xsd: boolean;
  /** The plain `type` attribute (ManagedObjectReference). */
  moType: string | undefined;
}

function readTag(c: Cursor, parent: Scope | null): TagInfo {
  if (c.attrsEnd === c.attrsStart) return { scope: parent, type: null, xsd: false, moType: undefined };
  const known = c.knownTag(parent);
  if (known !== null) return known;
  const info: TagInfo = { scope: parent, type: null, xsd: false, moType: undefined };
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
    } else if (name === 'type') info.moType = value;
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
    info.type = colon < 0 ? value : value.slice(colon + 1);
    info.xsd = lookup(info.scope, typePrefix) === XSD_NS || typePrefix === 'xsd' || typePrefix === 'xs';
  }
  c.rememberTag(parent, info);
  return info;
}

/**
 * The value of the element whose start tag was just read (its attributes in `c`), by the
 * rules of xml.ts `elementValue`, up to and including its end tag.
 */
function readValue(c: Cursor, parent: Scope | null): unknown {
  const local = c.local;
  const tag = readTag(c, parent);
  const array = tag.type !== null && tag.type.startsWith('ArrayOf');
  if (c.selfClosed) return array ? [] : leafValue('', tag.type, tag.xsd, tag.moType);
  const text = c.textUntilTag();
  const next = c.text.charCodeAt(c.pos + 1);
  if (next === 0x2f /* / */) {
    c.endTag(local);
    return array ? [] : leafValue(text, tag.type, tag.xsd, tag.moType);
  }
  // Children (text beside them is not part of a value).
  if (array) {
    const list: unknown[] = [];
    for (let name = c.startTag(); name !== null; name = nextTag(c)) list.push(readValue(c, tag.scope));
    c.endTag(local);
    return list;
  }
  const record: Record<string, unknown> = {};
  if (tag.type !== null) record['$type'] = detach(tag.type);
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

/** Unix seconds of an xsd:dateTime; parsed once per answer (the entities of a history query share their timestamps). */
function timestampSec(text: string, seen: Map<string, number>): number {
  let sec = seen.get(text);
  if (sec === undefined) {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw notPlain;
    sec = Math.floor(ms / 1000);
    seen.set(text, sec);
  }
  return sec;
}

function xsiTypeOf(c: Cursor, scope: Scope | null): string | null {
  return readTag(c, scope).type;
}

function readPerfEntity(c: Cursor, scope: Scope | null, timestamps: Map<string, number>): ScannedPerfEntity {
  let entity: { type: string; value: string } | null = null;
  const tsSec: number[] = [];
  const intervals: number[] = [];
  const series: { counterId: number; instance: string; values: number[] }[] = [];
  for (let local = c.startTag(); local !== null; local = c.startTag()) {
    if (local === 'entity') {
      const type = readTag(c, scope).moType;
      if (type === undefined || entity !== null) throw notPlain;
      entity = { type: detach(type), value: detach(c.leafText('entity')) };
    } else if (local === 'sampleInfo') {
      if (c.selfClosed) throw notPlain;
      let ts: number | null = null;
      let interval = 0;
      for (let field = c.startTag(); field !== null; field = c.startTag()) {
        if (field === 'timestamp') ts = timestampSec(c.leafText('timestamp').trim(), timestamps);
        else if (field === 'interval') interval = c.leafInteger('interval');
        else throw notPlain;
      }
      c.endTag('sampleInfo');
      if (ts === null) throw notPlain;
      tsSec.push(ts);
      intervals.push(interval);
    } else if (local === 'value') {
      if (c.selfClosed) throw notPlain;
      const type = c.hasAttributes ? xsiTypeOf(c, scope) : null;
      if (type !== null && type !== 'PerfMetricIntSeries') throw notPlain;
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
  return { entity, ...inTimeOrder(tsSec, intervals, series) };
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
    order = Array.from({ length: count }, (_, i) => (descending ? count - 1 - i : i));
    if (!descending) order.sort((a, b) => (tsSec[a] ?? 0) - (tsSec[b] ?? 0));
  }
  const samples = Array.from({ length: count }, (_, i) => {
    const from = order ? (order[i] ?? 0) : i;
    return { tsSec: tsSec[from] ?? NaN, intervalSec: intervals[from] ?? 0 };
  });
  if (order) {
    const o = order;
    for (const s of series) if (s.values.length === count) s.values = o.map((i) => s.values[i] ?? -1);
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
    const timestamps = new Map<string, number>();
    const selfClosed = c.selfClosed;
    if (!selfClosed) {
      for (let local = c.startTag(); local !== null; local = c.startTag()) {
        if (local !== 'returnval' || c.selfClosed) throw notPlain;
        const tag = readTag(c, scope);
        if (tag.type !== null && tag.type !== 'PerfEntityMetric') throw notPlain;
        out.push(readPerfEntity(c, tag.scope, timestamps));
      }
    }
    closeEnvelope(c, 'QueryPerf', selfClosed);
    return out;
  });
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
            let obj: { type: string; value: string } | null = null;
            const props: Record<string, unknown> = {};
            for (let part = c.startTag(); part !== null; part = c.startTag()) {
              if (part === 'obj') {
                const type = readTag(c, objectScope).moType;
                if (type === undefined || obj !== null) throw notPlain;
                obj = { type: detach(type), value: detach(c.leafText('obj')) };
              } else if (part === 'propSet') {
                if (c.selfClosed) throw notPlain;
                const propScope = readTag(c, objectScope).scope;
                let name: string | null = null;
                let val: unknown;
                for (let item = c.startTag(); item !== null; item = c.startTag()) {
                  if (item === 'name' && name === null) name = detach(c.leafText('name'));
                  else if (item === 'val' && val === undefined) val = readValue(c, propScope);
                  else throw notPlain;
                }
                c.endTag('propSet');
                if (name !== null && val !== undefined) props[name] = val;
              } else throw notPlain;
            }
            c.endTag('objects');
            if (obj === null) throw notPlain;
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
