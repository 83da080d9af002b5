/**
 * A reader for the one large answer of a collection cycle, QueryPerfResponse, that goes from
 * the response text to `PerfEntityMetric` values without building anything else: no element,
 * no value record, no string per number. At 5,000 VMs a steady cycle receives about 13 MB of
 * it; the generic scanner (xml.ts) spent most of a cycle's parsing time there (issue #12).
 *
 * It reads only the shape vCenter and vcsim send for `PerfEntityMetric` results: an envelope,
 * `<returnval>` elements holding `entity`, `sampleInfo` and `PerfMetricIntSeries` `value`
 * elements, in any order, with any namespace prefixes, whitespace and entity references.
 * Anything else (a CSV result, an unknown element, a comment, CDATA, a truncated document)
 * makes it return null, and the caller parses the response the generic way, which handles or
 * refuses every document: this reader never guesses.
 */
import { decodeEntities, SOAP_ENV_NS } from './xml.ts';

/** One entity's samples, like client.ts `PerfEntityMetric` (declared there). */
export interface ScannedPerfEntity {
  readonly entity: { readonly type: string; readonly value: string };
  /** Ascending by time. */
  readonly samples: readonly { readonly tsSec: number; readonly intervalSec: number }[];
  /** `values[i]` belongs to `samples[i]` (a series shorter than the samples is kept as sent). */
  readonly series: readonly { readonly counterId: number; readonly instance: string; readonly values: readonly number[] }[];
}

class NotPlain extends Error {}

const notPlain = new NotPlain('not a plain QueryPerfResponse');

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/**
 * A cursor over the document: start tags (name and raw attributes), end tags and text, nothing
 * else. Every step checks what it expects and throws `notPlain` otherwise.
 */
class Cursor {
  pos = 0;
  /** Local name and raw attribute text of the last start tag; whether it closed itself. */
  local = '';
  attrs = '';
  selfClosed = false;

  constructor(readonly text: string) {}

  skipSpaces(): void {
    const text = this.text;
    let at = this.pos;
    while (at < text.length && isSpace(text.charCodeAt(at))) at++;
    this.pos = at;
  }

  /** At `<name`: reads a start tag and returns its local name; null at an end tag (left unread). */
  startTag(): string | null {
    this.skipSpaces();
    const text = this.text;
    if (text.charCodeAt(this.pos) !== 0x3c /* < */) throw notPlain;
    const next = text.charCodeAt(this.pos + 1);
    if (next === 0x2f /* / */) return null;
    // Comments, CDATA, processing instructions: not in a plain answer.
    if (next === 0x21 || next === 0x3f) throw notPlain;
    const end = text.indexOf('>', this.pos);
    if (end < 0) throw notPlain;
    let nameEnd = this.pos + 1;
    while (nameEnd < end) {
      const code = text.charCodeAt(nameEnd);
      if (isSpace(code) || code === 0x2f) break;
      nameEnd++;
    }
    const qname = text.slice(this.pos + 1, nameEnd);
    const colon = qname.indexOf(':');
    this.local = colon < 0 ? qname : qname.slice(colon + 1);
    this.selfClosed = text.charCodeAt(end - 1) === 0x2f;
    this.attrs = text.slice(nameEnd, this.selfClosed ? end - 1 : end);
    // A `>` inside a quoted attribute value would have cut the tag short.
    if (this.attrs.includes('"') || this.attrs.includes("'")) {
      const quotes = (this.attrs.match(/["']/g) ?? []).length;
      if (quotes % 2 !== 0) throw notPlain;
    }
    this.pos = end + 1;
    return this.local;
  }

  /** Reads `</name>` of the element whose local name is `local`. */
  endTag(local: string): void {
    this.skipSpaces();
    const text = this.text;
    if (text.charCodeAt(this.pos) !== 0x3c || text.charCodeAt(this.pos + 1) !== 0x2f) throw notPlain;
    const end = text.indexOf('>', this.pos);
    if (end < 0) throw notPlain;
    const qname = text.slice(this.pos + 2, end).trimEnd();
    const colon = qname.indexOf(':');
    if ((colon < 0 ? qname : qname.slice(colon + 1)) !== local) throw notPlain;
    this.pos = end + 1;
  }

  /** The text of a leaf element whose start tag was just read, and its end tag. */
  leafText(local: string): string {
    if (this.selfClosed) return '';
    const text = this.text;
    const lt = text.indexOf('<', this.pos);
    if (lt < 0) throw notPlain;
    const raw = text.slice(this.pos, lt);
    this.pos = lt;
    this.endTag(local);
    return raw.includes('&') ? decodeEntities(raw) : raw;
  }

  /** An integer leaf (`<value>-1</value>`), read in place. */
  leafInteger(local: string): number {
    if (this.selfClosed) throw notPlain;
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
      // Not a plain integer of at most 15 digits (exact in a double): the generic text rule.
      const value = Number(this.leafText(local).trim());
      if (!Number.isFinite(value)) throw notPlain;
      return value;
    }
    this.pos = at;
    this.endTag(local);
    return negative ? -n : n;
  }

  /** An unprefixed attribute of the start tag just read, decoded. */
  attr(name: string): string | undefined {
    const match = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(this.attrs);
    if (!match) return undefined;
    const raw = match[1] ?? match[2] ?? '';
    return raw.includes('&') ? decodeEntities(raw) : raw;
  }

  /** The local name of the start tag's `prefix:type` attribute, where the prefix is bound to XSI (or is `xsi`). */
  xsiTypeLocal(): string | null {
    const match = /(?:^|\s)([\w.-]+):type\s*=\s*"([^"]*)"/.exec(this.attrs);
    if (!match) return null;
    const value = match[2] ?? '';
    const colon = value.indexOf(':');
    return colon < 0 ? value : value.slice(colon + 1);
  }
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

function readReturnval(c: Cursor, timestamps: Map<string, number>): ScannedPerfEntity {
  let entity: { type: string; value: string } | null = null;
  const tsSec: number[] = [];
  const intervals: number[] = [];
  const series: { counterId: number; instance: string; values: number[] }[] = [];
  for (let local = c.startTag(); local !== null; local = c.startTag()) {
    if (local === 'entity') {
      const type = c.attr('type');
      if (type === undefined || entity !== null) throw notPlain;
      entity = { type, value: c.leafText('entity') };
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
      const type = c.xsiTypeLocal();
      if (type !== null && type !== 'PerfMetricIntSeries') throw notPlain;
      if (c.selfClosed) throw notPlain;
      let counterId: number | null = null;
      let instance = '';
      const values: number[] = [];
      for (let field = c.startTag(); field !== null; field = c.startTag()) {
        if (field === 'value') values.push(c.leafInteger('value'));
        else if (field === 'id') {
          if (c.selfClosed) throw notPlain;
          for (let part = c.startTag(); part !== null; part = c.startTag()) {
            if (part === 'counterId') counterId = c.leafInteger('counterId');
            else if (part === 'instance') instance = c.leafText('instance');
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

/** Whether the start tag just read declares `prefix` (its element's) as the SOAP envelope namespace. */
function declaresSoapEnvelope(c: Cursor, qnameStart: number): boolean {
  const tag = c.text.slice(qnameStart, c.text.indexOf('>', qnameStart));
  const name = /^<([\w.:-]+)/.exec(tag)?.[1] ?? '';
  const colon = name.indexOf(':');
  const prefix = colon < 0 ? '' : name.slice(0, colon);
  const declaration = prefix === '' ? 'xmlns' : `xmlns:${prefix}`;
  return tag.includes(`${declaration}="${SOAP_ENV_NS}"`) || tag.includes(`${declaration}='${SOAP_ENV_NS}'`);
}

/**
 * The results of a QueryPerfResponse text, or null when the text is not the plain shape
 * this reader knows (then parse it with xml.ts: it may be a fault, a CSV answer or garbage).
 */
export function scanQueryPerfResponse(text: string): ScannedPerfEntity[] | null {
  const c = new Cursor(text);
  try {
    if (text.charCodeAt(0) === 0xfeff) c.pos = 1;
    c.skipSpaces();
    if (text.startsWith('<?xml', c.pos)) {
      const end = text.indexOf('?>', c.pos);
      if (end < 0) return null;
      c.pos = end + 2;
    }
    c.skipSpaces();
    const envelopeAt = c.pos;
    if (c.startTag() !== 'Envelope' || c.selfClosed || !declaresSoapEnvelope(c, envelopeAt)) return null;
    if (c.startTag() !== 'Body' || c.selfClosed) return null;
    if (c.startTag() !== 'QueryPerfResponse') return null;
    const out: ScannedPerfEntity[] = [];
    const timestamps = new Map<string, number>();
    if (!c.selfClosed) {
      for (let local = c.startTag(); local !== null; local = c.startTag()) {
        if (local !== 'returnval' || c.selfClosed) return null;
        const type = c.xsiTypeLocal();
        if (type !== null && type !== 'PerfEntityMetric') return null;
        out.push(readReturnval(c, timestamps));
      }
      c.endTag('QueryPerfResponse');
    }
    c.endTag('Body');
    c.endTag('Envelope');
    c.skipSpaces();
    return c.pos === text.length ? out : null;
  } catch (error) {
    if (error instanceof NotPlain) return null;
    throw error;
  }
}
