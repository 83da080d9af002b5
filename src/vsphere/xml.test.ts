import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { detach, elementValue, parseXml, xsiType } from './xml.ts';
import { asArray, asMoRef, xmlEscape, moRefXml, dateTimeXml } from './values.ts';

const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"';

function value(xml: string): unknown {
  return elementValue(parseXml(xml));
}

void test('typed leaves: numbers and booleans by xsi:type, untyped text stays a string', () => {
  assert.equal(value(`<val ${XSI} xsi:type="xsd:int">42</val>`), 42);
  assert.equal(value(`<val ${XSI} xsi:type="xsd:long">-7</val>`), -7);
  assert.equal(value(`<val ${XSI} xsi:type="xsd:double">1.5</val>`), 1.5);
  assert.equal(value(`<val ${XSI} xsi:type="xsd:boolean">true</val>`), true);
  assert.equal(value(`<val ${XSI} xsi:type="xsd:boolean">false</val>`), false);
  assert.equal(value(`<val ${XSI} xsi:type="xsd:string">123</val>`), '123');
  assert.equal(value('<name>123</name>'), '123');
  assert.equal(value('<name>0x1</name>'), '0x1');
});

void test('namespaces are resolved, not prefixes: vcsim writes XMLSchema-instance:type', () => {
  const el = parseXml(
    '<val xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" XMLSchema-instance:type="xsd:int">5</val>',
  );
  assert.equal(xsiType(el), 'int');
  assert.equal(elementValue(el), 5);
  // A prefix that is not bound to XSI is not xsi:type.
  assert.equal(xsiType(parseXml('<val xmlns:foo="urn:other" foo:type="int">5</val>')), null);
});

void test('a ManagedObjectReference carries xsi:type and type: it becomes a MoRef', () => {
  const v = value(`<val ${XSI} xsi:type="ManagedObjectReference" type="VirtualMachine">vm-42</val>`);
  assert.deepEqual(v, { type: 'VirtualMachine', value: 'vm-42' });
  assert.deepEqual(asMoRef(v), { type: 'VirtualMachine', value: 'vm-42' });
});

void test('ArrayOf values are arrays, with one element or many or none', () => {
  assert.deepEqual(value(`<val ${XSI} xsi:type="ArrayOfString"><string>a</string></val>`), ['a']);
  assert.deepEqual(value(`<val ${XSI} xsi:type="ArrayOfString"><string>a</string><string>b</string></val>`), ['a', 'b']);
  assert.deepEqual(value(`<val ${XSI} xsi:type="ArrayOfInt"></val>`), []);
  assert.deepEqual(
    value(`<val ${XSI} xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="Datastore" xsi:type="ManagedObjectReference">ds-1</ManagedObjectReference></val>`),
    [{ type: 'Datastore', value: 'ds-1' }],
  );
});

void test('complex values: repeated children become arrays, single stays single, $type names the type', () => {
  const v = value(`<val ${XSI} xsi:type="HostConfigInfo"><pnic><device>vmnic0</device></pnic><pnic><device>vmnic1</device></pnic><name>h</name></val>`);
  assert.deepEqual(v, { $type: 'HostConfigInfo', pnic: [{ device: 'vmnic0' }, { device: 'vmnic1' }], name: 'h' });
  const single = value('<val><pnic><device>vmnic0</device></pnic></val>') as Record<string, unknown>;
  assert.deepEqual(asArray(single['pnic']), [{ device: 'vmnic0' }]);
});

void test('entities and escaping round-trip', () => {
  const name = `a<&>"'b`;
  assert.equal(xmlEscape(name), 'a&lt;&amp;&gt;&quot;&apos;b');
  assert.equal(value(`<name>${xmlEscape(name)}</name>`), name);
  assert.equal(value('<name>caf&#233; &#x263A;</name>'), 'café ☺');
  assert.equal(moRefXml('obj', { type: 'Datastore', value: 'x&y' }), '<obj type="Datastore">x&amp;y</obj>');
  assert.equal(dateTimeXml('startTime', 1_700_000_000), '<startTime>2023-11-14T22:13:20Z</startTime>');
  // Formatted times are kept for the next specs: the same time under another tag, and many times.
  assert.equal(dateTimeXml('endTime', 1_700_000_000), '<endTime>2023-11-14T22:13:20Z</endTime>');
  for (let i = 0; i < 600; i++) assert.equal(dateTimeXml('t', 1_700_000_000 + i * 20.5), `<t>${new Date((1_700_000_000 + i * 20.5) * 1000).toISOString().replace('.000Z', 'Z')}</t>`);
  assert.equal(dateTimeXml('startTime', 1_700_000_000), '<startTime>2023-11-14T22:13:20Z</startTime>');
});

void test('malformed XML throws', () => {
  assert.throws(() => parseXml('<a><b></a>'));
  assert.throws(() => parseXml('just text'));
  assert.throws(() => parseXml('<a><b>x</b>'));
});

void test('comments, processing instructions, CDATA and self-closing tags', () => {
  const el = parseXml('\uFEFF<?xml version="1.0"?><!-- hi --><a x=\'1 > 0\'><b/><![CDATA[<raw> &amp;]]><!-- c --><c y="&lt;"></c ></a>\n');
  assert.equal(el.name, 'a');
  assert.equal(el.attrs.get('x'), '1 > 0');
  assert.deepEqual(el.children.map((c) => c.name), ['b', 'c']);
  assert.equal(el.text, '<raw> &amp;');
  assert.equal(el.children[1]?.attrs.get('y'), '<');
});

void test('DOCTYPE, text outside the root, several roots and mismatched tags are refused', () => {
  for (const bad of ['<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', 'x<a/>', '<a/><b/>', '<a></b>', '<a><b></b>', '<a', '<a x="1></a>', '']) {
    assert.throws(() => parseXml(bad), Error, bad);
  }
});

const valueMode = { valueElements: new Set(['returnval']) };

/** Parses `xml` (a `returnval` root) both ways: as a tree read by elementValue, and straight into its value. */
function bothWays(xml: string): { tree: unknown; direct: unknown } {
  const direct = parseXml(xml, valueMode);
  assert.equal(direct.children.length, 0);
  return { tree: elementValue(parseXml(xml)), direct: elementValue(direct) };
}

void test('values built while scanning equal elementValue of the tree', () => {
  const docs = [
    `<returnval ${XSI} xsi:type="xsd:int">42</returnval>`,
    `<returnval ${XSI} xsi:type="xsd:boolean">true</returnval>`,
    '<returnval>0x1</returnval>',
    '<returnval/>',
    `<returnval ${XSI} xsi:type="HostListSummaryQuickStats"/>`,
    `<returnval type="VirtualMachine">vm-42</returnval>`,
    `<returnval ${XSI} xsi:type="ArrayOfString"><string>a</string><string>b</string></returnval>`,
    `<returnval ${XSI} xsi:type="ArrayOfInt"></returnval>`,
    `<returnval ${XSI} xsi:type="HostConfigInfo"><pnic><device>vmnic0</device></pnic><pnic><device>vmnic1</device></pnic><name>h</name></returnval>`,
    // Repeated children beside an ArrayOf child, nested arrays, vcsim's prefix, entities, CDATA, comments.
    `<returnval xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">` +
      `<objects><obj type="VirtualMachine">vm-1</obj><propSet><name>datastore</name><val XMLSchema-instance:type="ArrayOfManagedObjectReference">` +
      `<ManagedObjectReference type="Datastore" XMLSchema-instance:type="ManagedObjectReference">ds-1</ManagedObjectReference></val></propSet>` +
      `<propSet><name>summary.config.numCpu</name><val XMLSchema-instance:type="xsd:int"> 4 </val></propSet></objects>` +
      `<objects><obj type="VirtualMachine">vm-2</obj><propSet><name>name</name><val XMLSchema-instance:type="xsd:string">caf&#233; &amp; <![CDATA[<b>]]></val></propSet><!-- c --></objects>` +
      `<token>t</token></returnval>`,
    // A value with text beside its children: the text is not part of the value.
    '<returnval>before<a>1</a>between<a>2</a>after</returnval>',
  ];
  for (const doc of docs) {
    const { tree, direct } = bothWays(doc);
    assert.deepEqual(direct, tree, doc);
  }
});

void test('value elements inside a tree: the envelope stays elements, returnval becomes a value', () => {
  const doc =
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ${XSI}><soapenv:Body><RetrieveResponse xmlns="urn:vim25">` +
    `<returnval xsi:type="xsd:int">1</returnval><returnval type="Folder">group-d1</returnval></RetrieveResponse></soapenv:Body></soapenv:Envelope>`;
  const root = parseXml(doc, valueMode);
  const response = root.children[0]?.children[0];
  assert.equal(response?.name, 'RetrieveResponse');
  assert.equal(response.ns, 'urn:vim25');
  assert.deepEqual(response.children.map(elementValue), [1, { type: 'Folder', value: 'group-d1' }]);
  assert.equal(response.children[1]?.attrs.get('type'), 'Folder');
  assert.equal(xsiType(response.children[0] ?? response), 'int');
});

void test('every truncation of a document is refused, as a tree and as values', () => {
  const doc =
    `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ${XSI}><soapenv:Body><QueryPerfResponse xmlns="urn:vim25">` +
    `<returnval xsi:type="PerfEntityMetric"><entity type="VirtualMachine">vm-1</entity><sampleInfo><timestamp>2026-11-28T10:00:20Z</timestamp><interval>20</interval></sampleInfo>` +
    `<value xsi:type="PerfMetricIntSeries"><id><counterId>2</counterId><instance></instance></id><value>120</value></value></returnval>` +
    `</QueryPerfResponse></soapenv:Body></soapenv:Envelope>`;
  assert.doesNotThrow(() => parseXml(doc, valueMode));
  for (let cut = 0; cut < doc.length; cut++) {
    const prefix = doc.slice(0, cut);
    assert.throws(() => parseXml(prefix), Error, `tree, cut at ${String(cut)}`);
    assert.throws(() => parseXml(prefix, valueMode), Error, `values, cut at ${String(cut)}`);
  }
});

void test('malformed documents are refused in value mode too', () => {
  for (const bad of [
    '<returnval><a></returnval>',
    '<returnval><a>1</b></returnval>',
    '<returnval x="1></returnval>',
    '<returnval x></returnval>',
    '<returnval><!DOCTYPE a></returnval>',
    '<returnval/><returnval/>',
    'x<returnval/>',
    '<returnval><a/ ></returnval>',
    '<returnval>&</returnval><',
  ]) {
    assert.throws(() => parseXml(bad, valueMode), Error, bad);
  }
});

void test('detach copies long strings so that they do not keep their document alive', () => {
  assert.equal(detach('short'), 'short');
  const long = 'DC0_C0_RP0_VM123456';
  assert.equal(detach(`xx${long}yy`.slice(2, -2)), long);
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  // 20 documents of 1 MB, one VM name kept from each: without the copy, 20 MB stay alive.
  const kept = Array.from({ length: 20 }, (_, i) => {
    const document = `<name>${long}${String(i)}</name>`.padEnd(1 << 20, ' ');
    return detach(document.slice(6, 6 + long.length + String(i).length));
  });
  gc();
  const retainedMB = (process.memoryUsage().heapUsed - before) / (1 << 20);
  assert.equal(kept[3], `${long}3`);
  assert.ok(retainedMB < 5, `${retainedMB.toFixed(1)} MB retained`);
});
