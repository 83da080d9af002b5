import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elementValue, parseXml, xsiType } from './xml.ts';
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
