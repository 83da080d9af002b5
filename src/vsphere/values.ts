/**
 * Helpers for the schema-less values the SOAP client returns (see `xml.ts` for how XML
 * becomes values), and for building the XML arguments of a call.
 */

/** A managed object reference: `{ type: 'VirtualMachine', value: 'vm-42' }`. */
export interface MoRef {
  readonly type: string;
  readonly value: string;
}

/** `undefined`/`null` -> `[]`, a single value -> `[v]`, an array -> the array itself. */
export function asArray(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** A finite number from a number or numeric text; `null` when absent or not a number. */
export function asNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Text as is (numbers and booleans as their text); `null` when absent or structured. */
export function asString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/** `true`/`false` from a boolean or the text `true`/`false`/`1`/`0`; `null` otherwise. */
export function asBoolean(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return null;
}

/** A MoRef when `v` is one (an object with string `type` and `value`), else `null`. */
export function asMoRef(v: unknown): MoRef | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const { type, value } = v as { type?: unknown; value?: unknown };
  return typeof type === 'string' && typeof value === 'string' ? { type, value } : null;
}

/** A plain object (not an array, not a MoRef check), else `null`. */
export function asRecord(v: unknown): Readonly<Record<string, unknown>> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** Reads a dotted path (`'summary.quickStats.overallCpuUsage'`) through nested objects. */
export function getPath(v: unknown, path: string): unknown {
  let current: unknown = v;
  for (const part of path.split('.')) {
    const record = asRecord(current);
    if (!record) return undefined;
    current = record[part];
  }
  return current;
}

/** Escapes text for XML element content and attribute values. */
export function xmlEscape(s: string): string {
  // Most values (moRefs, counter ids, names) need nothing: no new string for them.
  if (!/[<>&"']/.test(s)) return s;
  return s.replace(/[<>&"']/g, (c) => {
    switch (c) {
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '&':
        return '&amp;';
      case '"':
        return '&quot;';
      default:
        return '&apos;';
    }
  });
}

/** `<tag type="VirtualMachine">vm-42</tag>`, escaped. */
export function moRefXml(tag: string, ref: MoRef): string {
  return `<${tag} type="${xmlEscape(ref.type)}">${xmlEscape(ref.value)}</${tag}>`;
}

/** `<tag>text</tag>`, escaped; numbers and booleans as their text. */
export function textXml(tag: string, value: string | number | boolean): string {
  return `<${tag}>${xmlEscape(String(value))}</${tag}>`;
}

/** Times formatted lately: a cycle's thousands of query specs share a few start and end times. */
const recentDateTimes = new Map<number, string>();

/** Unix seconds -> xsd:dateTime (`2026-01-02T03:04:05Z`). */
export function dateTimeXml(tag: string, unixSec: number): string {
  let text = recentDateTimes.get(unixSec);
  if (text === undefined) {
    text = new Date(unixSec * 1000).toISOString().replace('.000Z', 'Z');
    if (recentDateTimes.size >= 256) recentDateTimes.clear();
    recentDateTimes.set(unixSec, text);
  }
  return `<${tag}>${text}</${tag}>`;
}
