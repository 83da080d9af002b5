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
 *
 * The scanner is our own rather than fast-xml-parser: SOAP needs only elements, attributes,
 * text and namespaces. Measured by bench/xml-bench.ts on a 5,000-VM RetrievePropertiesEx page
 * (7 MB vCenter-style, 12.5 MB as vcsim writes it; 2026-11-28, 2 loaded cores): fast-xml-parser's
 * raw tree alone took 1.9x to 2.4x the CPU of this scanner producing the client's values
 * (1.5 s against 0.7 s), and 2.5x to 3.2x with its validator, without which it returns a
 * truncated page's first half as a complete answer.
 * This scanner refuses truncated or mismatched documents by construction and never expands
 * DTD entities. Its element tree is heavier than fast-xml-parser's while it lives (see the
 * benchmark's retainedHeapMB); the values kept afterwards are smaller.
 */

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

interface OpenElement {
  readonly qname: string;
  readonly rawAttrs: readonly (readonly [string, string])[];
  readonly scope: ReadonlyMap<string, string>;
  readonly children: XmlElement[];
  text: string;
}

const nameRe = /[^\s/>]+/y;
const attrRe = /\s*([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;
const tagEndRe = /\s*(\/?)>/y;

function openElement(qname: string, rawAttrs: (readonly [string, string])[], parentScope: ReadonlyMap<string, string>): OpenElement {
  let scope = parentScope;
  for (const [key, value] of rawAttrs) {
    if (key === 'xmlns' || key.startsWith('xmlns:')) {
      if (scope === parentScope) scope = new Map(parentScope);
      (scope as Map<string, string>).set(key === 'xmlns' ? '' : key.slice(6), value);
    }
  }
  return { qname, rawAttrs, scope, children: [], text: '' };
}

const noAttributes: ReadonlyMap<string, string> = new Map();

function closeElement(open: OpenElement): XmlElement {
  const [prefix, local] = splitQName(open.qname);
  const ns = open.scope.get(prefix) ?? prefix;
  if (open.rawAttrs.length === 0) return { name: local, ns, attrs: noAttributes, children: open.children, text: open.text, scope: open.scope };
  const attrs = new Map<string, string>();
  for (const [key, value] of open.rawAttrs) {
    if (key === 'xmlns' || key.startsWith('xmlns:')) continue;
    // Unprefixed attributes have no namespace (XML Namespaces 1.0, section 6.2).
    const [attrPrefix, attrLocal] = splitQName(key);
    attrs.set(attrPrefix === '' ? attrLocal : `{${open.scope.get(attrPrefix) ?? attrPrefix}}${attrLocal}`, value);
  }
  return { name: local, ns, attrs, children: open.children, text: open.text, scope: open.scope };
}

/**
 * Parses a document and returns its root element. Strict: a malformed or truncated document,
 * a DOCTYPE (no entity expansion here) or text outside the root throws.
 */
export function parseXml(body: string): XmlElement {
  const stack: OpenElement[] = [];
  let root: XmlElement | null = null;
  let pos = body.charCodeAt(0) === 0xfeff ? 1 : 0;
  const fail = (what: string): never => {
    throw new Error(`malformed XML at offset ${String(pos)}: ${what}`);
  };
  const expectEnd = (marker: string, from: number): number => {
    const end = body.indexOf(marker, from);
    if (end < 0) fail(`unterminated ${marker}`);
    return end;
  };
  while (pos < body.length) {
    const lt = body.indexOf('<', pos);
    const textEnd = lt < 0 ? body.length : lt;
    if (textEnd > pos) {
      const text = body.slice(pos, textEnd);
      const top = stack[stack.length - 1];
      if (top) top.text += decodeEntities(text);
      else if (text.trim() !== '') fail('text outside the root element');
    }
    if (lt < 0) break;
    pos = lt;
    const next = body.charCodeAt(lt + 1);
    if (next === 0x3f /* ? */) {
      pos = expectEnd('?>', lt + 2) + 2;
    } else if (next === 0x21 /* ! */) {
      if (body.startsWith('<!--', lt)) pos = expectEnd('-->', lt + 4) + 3;
      else if (body.startsWith('<![CDATA[', lt)) {
        const end = expectEnd(']]>', lt + 9);
        const top = stack[stack.length - 1];
        if (!top) fail('CDATA outside the root element');
        else top.text += body.slice(lt + 9, end);
        pos = end + 3;
      } else fail('DOCTYPE and declarations are not accepted');
    } else if (next === 0x2f /* / */) {
      const end = expectEnd('>', lt + 2);
      const qname = body.slice(lt + 2, end).trim();
      const open = stack.pop();
      if (!open || open.qname !== qname) fail(`unexpected closing tag </${qname}>`);
      else {
        const element = closeElement(open);
        const parent = stack[stack.length - 1];
        if (parent) parent.children.push(element);
        else if (root) fail('several root elements');
        else root = element;
      }
      pos = end + 1;
    } else {
      nameRe.lastIndex = lt + 1;
      const nameMatch = nameRe.exec(body);
      if (!nameMatch) fail('a tag without a name');
      const qname = nameMatch?.[0] ?? '';
      let at = lt + 1 + qname.length;
      const rawAttrs: (readonly [string, string])[] = [];
      for (;;) {
        attrRe.lastIndex = at;
        const attr = attrRe.exec(body);
        if (!attr) break;
        rawAttrs.push([attr[1] ?? '', decodeEntities(attr[2] ?? attr[3] ?? '')]);
        at = attrRe.lastIndex;
      }
      tagEndRe.lastIndex = at;
      const tagEnd = tagEndRe.exec(body);
      if (!tagEnd) fail(`unterminated tag <${qname}`);
      const parent = stack[stack.length - 1];
      if (!parent && root) fail('several root elements');
      const open = openElement(qname, rawAttrs, parent?.scope ?? rootScope);
      if (tagEnd?.[1] === '/') {
        const element = closeElement(open);
        if (parent) parent.children.push(element);
        else root = element;
      } else stack.push(open);
      pos = tagEndRe.lastIndex;
    }
  }
  if (stack.length > 0) fail(`unclosed element <${stack[stack.length - 1]?.qname ?? ''}>`);
  if (!root) throw new Error('malformed XML: no root element');
  return root;
}

const rootScope: ReadonlyMap<string, string> = new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]);

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
