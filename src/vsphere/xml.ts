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
 * benchmark's retainedHeapMB), so the transport does not build it for results: elements named
 * in `ParseOptions.valueElements` (`returnval`) become their value as they close, with the
 * same rules, and only the envelope around them is kept as elements.
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
  /**
   * Set on an element named in `ParseOptions.valueElements`: its value, built while scanning
   * (its `children` are then empty, its `text` is its text only when it is a leaf).
   */
  readonly value?: unknown;
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

export interface ParseOptions {
  /**
   * Local names of elements built straight into their value (`elementValue`'s result) while the
   * document is scanned: their subtree never exists as elements. Such an element comes back as
   * a shell with `value` set and no children. The transport names `returnval`, so that a
   * response of thousands of objects or samples is held once, as values, never as a tree.
   */
  readonly valueElements?: ReadonlySet<string>;
}

/**
 * One element being scanned. Frames are reused by depth (a document of a million elements
 * allocates as many frames as it is deep); every field is reset when an element opens.
 */
interface Frame {
  qname: string;
  local: string;
  ns: string;
  scope: ReadonlyMap<string, string>;
  attrs: ReadonlyMap<string, string>;
  text: string;
  /** Child elements (tree mode); null while building a value. */
  children: XmlElement[] | null;
  /** Value mode: this element and everything under it become a value. */
  valueMode: boolean;
  /** Value mode, entered at this element: it closes into a shell element carrying `value`. */
  shell: boolean;
  /** Local name of the xsi:type, or null. */
  type: string | null;
  /** Whether that xsi:type is an XML Schema type (xsd:int...). */
  xsd: boolean;
  /** A plain `type` attribute (ManagedObjectReference). */
  moType: string | undefined;
  childCount: number;
  list: unknown[] | null;
  record: Record<string, unknown> | null;
  /** Child names whose values were gathered into an array because the child repeats. */
  repeated: Set<string> | null;
}

function newFrame(): Frame {
  return {
    qname: '',
    local: '',
    ns: '',
    scope: rootScope,
    attrs: noAttributes,
    text: '',
    children: null,
    valueMode: false,
    shell: false,
    type: null,
    xsd: false,
    moType: undefined,
    childCount: 0,
    list: null,
    record: null,
    repeated: null,
  };
}

const rootScope: ReadonlyMap<string, string> = new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]);
const noAttributes: ReadonlyMap<string, string> = new Map();
const noChildren: readonly XmlElement[] = Object.freeze([]);
const XSD_NS = 'http://www.w3.org/2001/XMLSchema';

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09 || code === 0x0c || code === 0x0b;
}

/**
 * A copy of a string cut from the document. V8 cuts substrings of 13 characters or more as
 * views of their parent: one VM name kept in the inventory would keep its whole response
 * (megabytes) alive. Concatenating and cutting again makes V8 copy the characters.
 */
export function detach(text: string): string {
  return text.length < 13 ? text : (text + ' ').slice(0, -1);
}

/** Leaf rules of `elementValue` (no child elements); strings are detached from the document. Shared with plain-xml.ts. */
export function leafValue(text: string, type: string | null, xsd: boolean, moType: string | undefined): unknown {
  if (moType !== undefined) return { type: detach(moType), value: detach(text) };
  if (type !== null && xsd) {
    if (numericTypes.has(type)) {
      const n = Number(text.trim());
      return Number.isNaN(n) ? detach(text) : n;
    }
    if (type === 'boolean') return text.trim() === 'true' || text.trim() === '1';
    return detach(text);
  }
  // A complex type with every field unset, e.g. <val xsi:type="HostListSummaryQuickStats"/>.
  if (type !== null && text.trim() === '') return { $type: detach(type) };
  return detach(text);
}

/** Adds a child's value to a value-mode frame, following the rules of `elementValue`. */
function addChildValue(parent: Frame, name: string, value: unknown): void {
  parent.childCount++;
  parent.text = '';
  if (parent.type !== null && parent.type.startsWith('ArrayOf')) {
    (parent.list ??= []).push(value);
    return;
  }
  let record = parent.record;
  if (record === null) {
    record = {};
    if (parent.type !== null) record['$type'] = detach(parent.type);
    parent.record = record;
  }
  const existing = record[name];
  if (existing === undefined || name === '$type') record[name] = value;
  else if (parent.repeated?.has(name) === true) (existing as unknown[]).push(value);
  else {
    record[name] = [existing, value];
    (parent.repeated ??= new Set()).add(name);
  }
}

function frameValue(f: Frame): unknown {
  if (f.type !== null && f.type.startsWith('ArrayOf')) return f.list ?? [];
  if (f.childCount === 0) return leafValue(f.text, f.type, f.xsd, f.moType);
  return f.record;
}

/**
 * Parses a document and returns its root element. Strict: a malformed or truncated document,
 * a DOCTYPE (no entity expansion here) or text outside the root throws.
 */
export function parseXml(body: string, options: ParseOptions = {}): XmlElement {
  const valueElements = options.valueElements;
  const frames: Frame[] = [];
  let depth = 0;
  let root: XmlElement | null = null;
  // Attributes of the tag being read (reused from tag to tag).
  const attrNames: string[] = [];
  const attrValues: string[] = [];
  let pos = body.charCodeAt(0) === 0xfeff ? 1 : 0;
  const fail = (what: string): never => {
    throw new Error(`malformed XML at offset ${String(pos)}: ${what}`);
  };
  const expectEnd = (marker: string, from: number): number => {
    const end = body.indexOf(marker, from);
    if (end < 0) fail(`unterminated ${marker}`);
    return end;
  };
  const length = body.length;
  const skipSpaces = (from: number): number => {
    let at = from;
    while (at < length && isSpace(body.charCodeAt(at))) at++;
    return at;
  };
  const finish = (f: Frame): void => {
    const parent = depth > 0 ? frames[depth - 1] : undefined;
    if (f.valueMode && !f.shell) {
      // Its parent is in value mode too.
      if (parent) addChildValue(parent, f.local, frameValue(f));
      return;
    }
    const element: XmlElement = f.shell
      ? { name: f.local, ns: f.ns, attrs: f.attrs, children: noChildren, text: f.childCount === 0 ? f.text : '', scope: f.scope, value: frameValue(f) }
      : { name: f.local, ns: f.ns, attrs: f.attrs, children: f.children ?? [], text: f.text, scope: f.scope };
    if (parent) parent.children?.push(element);
    else if (root) fail('several root elements');
    else root = element;
  };
  while (pos < length) {
    const lt = body.indexOf('<', pos);
    const textEnd = lt < 0 ? length : lt;
    if (textEnd > pos) {
      const top = depth > 0 ? frames[depth - 1] : undefined;
      if (top) {
        // Text beside child elements is not part of a value: not kept.
        if (!(top.valueMode && top.childCount > 0)) top.text += decodeEntities(body.slice(pos, textEnd));
      } else {
        for (let at = pos; at < textEnd; at++) if (!isSpace(body.charCodeAt(at))) fail('text outside the root element');
      }
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
        const top = depth > 0 ? frames[depth - 1] : undefined;
        if (!top) fail('CDATA outside the root element');
        else if (!(top.valueMode && top.childCount > 0)) top.text += body.slice(lt + 9, end);
        pos = end + 3;
      } else fail('DOCTYPE and declarations are not accepted');
    } else if (next === 0x2f /* / */) {
      const end = expectEnd('>', lt + 2);
      const open = depth > 0 ? frames[depth - 1] : undefined;
      // The closing name, compared in place: `</qname` then only spaces up to `>`.
      let matches = open !== undefined && body.startsWith(open.qname, lt + 2);
      if (open && matches) for (let at = lt + 2 + open.qname.length; at < end; at++) if (!isSpace(body.charCodeAt(at))) matches = false;
      if (!open || !matches) fail(`unexpected closing tag </${body.slice(lt + 2, end).trim()}>`);
      else {
        depth--;
        finish(open);
      }
      pos = end + 1;
    } else {
      // Element name: up to a space, `/` or `>`.
      let at = lt + 1;
      while (at < length) {
        const code = body.charCodeAt(at);
        if (isSpace(code) || code === 0x2f || code === 0x3e) break;
        at++;
      }
      if (at === lt + 1) fail('a tag without a name');
      const qname = body.slice(lt + 1, at);
      // Attributes: name = "value" or 'value'.
      let count = 0;
      let closed = false;
      for (;;) {
        at = skipSpaces(at);
        if (at >= length) fail(`unterminated tag <${qname}`);
        const code = body.charCodeAt(at);
        if (code === 0x3e /* > */) {
          at++;
          break;
        }
        if (code === 0x2f /* / */) {
          if (body.charCodeAt(at + 1) !== 0x3e) fail(`unterminated tag <${qname}`);
          closed = true;
          at += 2;
          break;
        }
        const nameStart = at;
        while (at < length) {
          const c = body.charCodeAt(at);
          if (isSpace(c) || c === 0x3d || c === 0x2f || c === 0x3e) break;
          at++;
        }
        if (at === nameStart) fail(`unterminated tag <${qname}`);
        const name = body.slice(nameStart, at);
        at = skipSpaces(at);
        if (body.charCodeAt(at) !== 0x3d /* = */) fail(`unterminated tag <${qname}`);
        at = skipSpaces(at + 1);
        const quote = body.charCodeAt(at);
        if (quote !== 0x22 && quote !== 0x27) fail(`unterminated tag <${qname}`);
        const valueEnd = body.indexOf(quote === 0x22 ? '"' : "'", at + 1);
        if (valueEnd < 0) fail(`unterminated tag <${qname}`);
        attrNames[count] = name;
        attrValues[count] = decodeEntities(body.slice(at + 1, valueEnd));
        count++;
        at = valueEnd + 1;
      }
      const parent = depth > 0 ? frames[depth - 1] : undefined;
      if (!parent && root) fail('several root elements');
      const f = (frames[depth] ??= newFrame());
      openFrame(f, qname, parent, attrNames, attrValues, count, valueElements);
      depth++;
      if (closed) {
        depth--;
        finish(f);
      }
      pos = at;
    }
  }
  if (depth > 0) fail(`unclosed element <${frames[depth - 1]?.qname ?? ''}>`);
  if (!root) throw new Error('malformed XML: no root element');
  return root;
}

/** Resets a frame for a new element: scope, name, attributes or the value-mode fields. */
function openFrame(
  f: Frame,
  qname: string,
  parent: Frame | undefined,
  names: readonly string[],
  values: readonly string[],
  count: number,
  valueElements: ReadonlySet<string> | undefined,
): void {
  const parentScope = parent?.scope ?? rootScope;
  let scope = parentScope;
  for (let i = 0; i < count; i++) {
    const key = names[i] ?? '';
    if (key === 'xmlns' || key.startsWith('xmlns:')) {
      const prefix = key === 'xmlns' ? '' : key.slice(6);
      const ns = values[i] ?? '';
      // vcsim declares the same namespace again on every value: no new scope for that.
      if (scope.get(prefix) === ns) continue;
      if (scope === parentScope) scope = new Map(parentScope);
      (scope as Map<string, string>).set(prefix, ns);
    }
  }
  const colon = qname.indexOf(':');
  const local = colon < 0 ? qname : qname.slice(colon + 1);
  f.qname = qname;
  f.local = local;
  f.scope = scope;
  f.text = '';
  f.childCount = 0;
  f.list = null;
  f.record = null;
  f.repeated = null;
  f.valueMode = parent?.valueMode === true;
  f.shell = !f.valueMode && valueElements?.has(local) === true;
  if (f.shell) f.valueMode = true;
  f.children = f.valueMode ? null : [];
  f.type = null;
  f.xsd = false;
  f.moType = undefined;
  if (f.valueMode && !f.shell) {
    // Only what a value needs: xsi:type and a plain `type`.
    f.ns = '';
    f.attrs = noAttributes;
    for (let i = 0; i < count; i++) {
      const key = names[i] ?? '';
      if (key === 'type') f.moType = values[i] ?? '';
      else if (key.endsWith(':type') && !key.startsWith('xmlns:')) setXsiType(f, key, values[i] ?? '', scope);
    }
    return;
  }
  f.ns = scope.get(colon < 0 ? '' : qname.slice(0, colon)) ?? (colon < 0 ? '' : qname.slice(0, colon));
  let attrs: Map<string, string> | null = null;
  for (let i = 0; i < count; i++) {
    const key = names[i] ?? '';
    const value = values[i] ?? '';
    if (key === 'xmlns' || key.startsWith('xmlns:')) continue;
    // Unprefixed attributes have no namespace (XML Namespaces 1.0, section 6.2).
    const [attrPrefix, attrLocal] = splitQName(key);
    (attrs ??= new Map()).set(attrPrefix === '' ? attrLocal : `{${scope.get(attrPrefix) ?? attrPrefix}}${attrLocal}`, value);
    if (f.shell) {
      if (key === 'type') f.moType = value;
      else if (attrLocal === 'type') setXsiType(f, key, value, scope);
    }
  }
  f.attrs = attrs ?? noAttributes;
}

/** Records an attribute `prefix:type` as the frame's xsi:type when the prefix is bound to XSI. */
function setXsiType(f: Frame, key: string, value: string, scope: ReadonlyMap<string, string>): void {
  const prefix = key.slice(0, key.indexOf(':'));
  if ((scope.get(prefix) ?? prefix) !== XSI_NS) return;
  const [typePrefix, typeLocal] = splitQName(value);
  f.type = typeLocal;
  f.xsd = scope.get(typePrefix) === XSD_NS || typePrefix === 'xsd' || typePrefix === 'xs';
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
  return el.scope.get(prefix) === XSD_NS || prefix === 'xsd' || prefix === 'xs';
}

/** Converts an element to a plain value following the rules at the top of this file. */
export function elementValue(el: XmlElement): unknown {
  if ('value' in el) return el.value;
  const type = xsiType(el);
  if (type !== null && type.startsWith('ArrayOf')) return el.children.map(elementValue);
  if (el.children.length === 0) return leafValue(el.text, type, type !== null && isXsdType(el), el.attrs.get('type'));
  const out: Record<string, unknown> = {};
  if (type !== null) out['$type'] = detach(type);
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
