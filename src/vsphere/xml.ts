/**
 * SOAP envelopes in and out. Parsing resolves namespaces (not prefixes): vcsim writes
 * `XMLSchema-instance:type` where vCenter writes `xsi:type`, and a ManagedObjectReference
 * carries both `xsi:type` and a plain `type` attribute.
 *
 * Value rules (`elementValue`):
 * - leaf with xsi:type xsd:int/long/short/byte/float/double -> number, xsd:boolean -> boolean,
 *   any other or no xsi:type -> string (untyped text is never turned into a number);
 * - element with a plain `type` attribute and no child elements -> MoRef `{ type, value }`;
 * - xsi:type `ArrayOf...` -> array of its children's values;
 * - other elements with children -> object of child values, repeated children become arrays
 *   (a single child stays single: read lists with `asArray`); when the element names its
 *   xsi:type (e.g. `VirtualDisk` inside `ArrayOfVirtualDevice`), the object gets `$type`.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const VIM25_NS = 'urn:vim25';

/** One parsed element with resolved names. Attribute keys are `local` or `{ns}local`. */
export interface XmlElement {
  readonly name: string;
  readonly ns: string;
  readonly attrs: ReadonlyMap<string, string>;
  readonly children: readonly XmlElement[];
  readonly text: string;
  /** Prefix -> namespace in scope, to resolve QName values such as `xsd:int`. */
  readonly scope: ReadonlyMap<string, string>;
}

type OrderedNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Entities are decoded here (decodeEntities): the parser leaves numeric references alone.
  processEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

const namedEntities: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the five XML entities and numeric character references; leaves others as is. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return namedEntities[ref] ?? whole;
  });
}

function splitQName(qname: string): [string, string] {
  const i = qname.indexOf(':');
  return i < 0 ? ['', qname] : [qname.slice(0, i), qname.slice(i + 1)];
}

function buildElement(tag: string, node: OrderedNode, parentScope: ReadonlyMap<string, string>): XmlElement {
  const rawAttrs = (node[':@'] ?? {}) as Record<string, string>;
  let scope = parentScope;
  for (const [key, value] of Object.entries(rawAttrs)) {
    if (key === 'xmlns' || key.startsWith('xmlns:')) {
      if (scope === parentScope) scope = new Map(parentScope);
      (scope as Map<string, string>).set(key === 'xmlns' ? '' : key.slice(6), value);
    }
  }
  const attrs = new Map<string, string>();
  for (const [key, value] of Object.entries(rawAttrs)) {
    if (key === 'xmlns' || key.startsWith('xmlns:')) continue;
    const [prefix, local] = splitQName(key);
    // Unprefixed attributes have no namespace (XML Namespaces 1.0, section 6.2).
    attrs.set(prefix === '' ? local : `{${scope.get(prefix) ?? prefix}}${local}`, decodeEntities(String(value)));
  }
  const [prefix, local] = splitQName(tag);
  const children: XmlElement[] = [];
  let text = '';
  const content = node[tag];
  if (Array.isArray(content)) {
    for (const child of content as OrderedNode[]) {
      const childTag = Object.keys(child).find((k) => k !== ':@');
      if (childTag === undefined) continue;
      if (childTag === '#text') text += cdataText(child['#text']);
      else if (childTag === '#cdata' || childTag === '__cdata') text += cdataText(child[childTag]);
      else if (!childTag.startsWith('?') && !childTag.startsWith('!')) children.push(buildElement(childTag, child, scope));
    }
  }
  return { name: local, ns: scope.get(prefix) ?? (prefix === '' ? '' : prefix), attrs, children, text: decodeEntities(text), scope };
}

function cdataText(v: unknown): string {
  if (Array.isArray(v)) return v.map((n) => cdataText((n as OrderedNode)['#text'])).join('');
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}

/** Parses a document; returns its root element, or throws on malformed (e.g. truncated) XML. */
export function parseXml(body: string): XmlElement {
  // The parser is lenient; a truncated response must not pass for a shorter valid one.
  const valid = XMLValidator.validate(body);
  if (valid !== true) throw new Error(`malformed XML at line ${String(valid.err.line)}: ${valid.err.msg}`);
  const nodes = parser.parse(body) as OrderedNode[];
  for (const node of nodes) {
    const tag = Object.keys(node).find((k) => k !== ':@');
    if (tag !== undefined && !tag.startsWith('#') && !tag.startsWith('?') && !tag.startsWith('!')) {
      return buildElement(tag, node, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]));
    }
  }
  throw new Error('no root element');
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/** The local name of the element's xsi:type (`int`, `ArrayOfString`, `VirtualDisk`), or null. */
export function xsiType(el: XmlElement): string | null {
  const value = el.attrs.get(`{${XSI_NS}}type`);
  return value === undefined ? null : splitQName(value)[1];
}

const numericTypes = new Set([
  'int',
  'long',
  'short',
  'byte',
  'float',
  'double',
  'unsignedInt',
  'unsignedLong',
  'unsignedShort',
  'unsignedByte',
  'integer',
  'decimal',
]);

function isXsdType(el: XmlElement): boolean {
  const value = el.attrs.get(`{${XSI_NS}}type`);
  if (value === undefined) return false;
  const [prefix] = splitQName(value);
  return el.scope.get(prefix) === 'http://www.w3.org/2001/XMLSchema' || prefix === 'xsd' || prefix === 'xs';
}

/** Converts an element to a plain value following the rules at the top of this file. */
export function elementValue(el: XmlElement): unknown {
  const type = xsiType(el);
  if (type !== null && type.startsWith('ArrayOf')) return el.children.map(elementValue);
  if (el.children.length === 0) {
    const moType = el.attrs.get('type');
    if (moType !== undefined) return { type: moType, value: el.text };
    if (type !== null && isXsdType(el)) {
      if (numericTypes.has(type)) {
        const n = Number(el.text.trim());
        return Number.isNaN(n) ? el.text : n;
      }
      if (type === 'boolean') return el.text.trim() === 'true' || el.text.trim() === '1';
      return el.text;
    }
    // A complex type with every field unset, e.g. <val xsi:type="HostListSummaryQuickStats"/>.
    if (type !== null && el.text.trim() === '') return { $type: type };
    return el.text;
  }
  const out: Record<string, unknown> = {};
  if (type !== null) out['$type'] = type;
  for (const c of el.children) {
    const value = elementValue(c);
    const existing = out[c.name];
    if (existing === undefined || c.name === '$type') out[c.name] = value;
    else if (Array.isArray(existing) && repeated.has(existing)) existing.push(value);
    else {
      const list = [existing, value];
      repeated.add(list);
      out[c.name] = list;
    }
  }
  return out;
}

// Arrays made from repeated children (as opposed to an ArrayOf value held by a single child).
const repeated = new WeakSet<unknown[]>();

/** Wraps a method call in a SOAP envelope. `inner` is already-escaped XML. */
export function envelope(method: string, inner: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${XSI_NS}">` +
    `<soapenv:Body><${method} xmlns="${VIM25_NS}">${inner}</${method}></soapenv:Body></soapenv:Envelope>`
  );
}
