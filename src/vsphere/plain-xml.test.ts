import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanQueryPerfResponse, scanRetrieveResponse } from './plain-xml.ts';
import { parseRetrieveResult } from './client.ts';
import { responseParsing } from './soap.ts';
import { child, elementValue, parseXml } from './xml.ts';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

function envelope(inner: string, prefix = 'soapenv'): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${prefix}:Envelope xmlns:${prefix}="http://schemas.xmlsoap.org/soap/envelope/" ` +
    `xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${XSI}"><${prefix}:Body><QueryPerfResponse xmlns="urn:vim25">${inner}</QueryPerfResponse></${prefix}:Body></${prefix}:Envelope>`
  );
}

const sample = (ts: string, interval = 20): string => `<sampleInfo><timestamp>${ts}</timestamp><interval>${String(interval)}</interval></sampleInfo>`;
const series = (counterId: number, instance: string, values: number[], type = 'xsi:type="PerfMetricIntSeries"'): string =>
  `<value ${type}><id><counterId>${String(counterId)}</counterId><instance>${instance}</instance></id>${values.map((v) => `<value>${String(v)}</value>`).join('')}</value>`;

const t0 = Date.parse('2026-01-01T00:00:20Z') / 1000;

void test('vcsim answers: samples newest first become ascending, values follow them', () => {
  // As vcsim writes it: XMLSchema-instance declared on each returnval, nanosecond timestamps.
  const body = envelope(
    `<returnval xmlns:XMLSchema-instance="${XSI}" XMLSchema-instance:type="PerfEntityMetric"><entity type="VirtualMachine">vm-1</entity>` +
      sample('2026-01-01T00:01:00.775299939Z') +
      sample('2026-01-01T00:00:40.775299939Z') +
      sample('2026-01-01T00:00:20.775299939Z') +
      series(2, '', [30, 20, 10], 'XMLSchema-instance:type="PerfMetricIntSeries"') +
      series(173, '*', [3, -1], 'XMLSchema-instance:type="PerfMetricIntSeries"') +
      '</returnval>',
  );
  assert.deepEqual(scanQueryPerfResponse(body), [
    {
      entity: { type: 'VirtualMachine', value: 'vm-1' },
      samples: [
        { tsSec: t0, intervalSec: 20 },
        { tsSec: t0 + 20, intervalSec: 20 },
        { tsSec: t0 + 40, intervalSec: 20 },
      ],
      // vcsim omits zeros: a series shorter than the samples is kept as sent, never reordered.
      series: [
        { counterId: 2, instance: '', values: [10, 20, 30] },
        { counterId: 173, instance: '*', values: [3, -1] },
      ],
    },
  ]);
});

void test('vCenter-style answers: other prefixes, whitespace, entities, self-closed elements, shuffled samples', () => {
  const body = envelope(
    `\n  <returnval xsi:type="PerfEntityMetric">\n    <entity type="HostSystem">host&amp;1</entity>\n` +
      `${sample('2026-01-01T00:00:40Z')}\n${sample('2026-01-01T00:00:20Z')}\n${sample('2026-01-01T00:01:00Z')}\n` +
      `<value xsi:type="PerfMetricIntSeries"><id><counterId> 462 </counterId><instance>vmnic&lt;0&gt;</instance></id><value>2</value><value>1</value><value> 3 </value></value>` +
      `<value xsi:type="PerfMetricIntSeries"><id><counterId>2</counterId><instance/></id><value>-1</value><value>99999999999999999</value><value>1.5</value></value>\n  </returnval>` +
      '<returnval xsi:type="PerfEntityMetric"><entity type="VirtualMachine">vm-2</entity></returnval>\n',
    's',
  );
  assert.deepEqual(scanQueryPerfResponse(body), [
    {
      entity: { type: 'HostSystem', value: 'host&1' },
      samples: [
        { tsSec: t0, intervalSec: 20 },
        { tsSec: t0 + 20, intervalSec: 20 },
        { tsSec: t0 + 40, intervalSec: 20 },
      ],
      series: [
        { counterId: 462, instance: 'vmnic<0>', values: [1, 2, 3] },
        { counterId: 2, instance: '', values: [99999999999999999, -1, 1.5] },
      ],
    },
    { entity: { type: 'VirtualMachine', value: 'vm-2' }, samples: [], series: [] },
  ]);
  assert.deepEqual(scanQueryPerfResponse(envelope('')), []);
  // A `>` inside a quoted attribute value is XML: read as the generic parser reads it.
  assert.equal(scanQueryPerfResponse(envelope(body.slice(body.indexOf('<returnval'), body.lastIndexOf('</QueryPerfResponse>')).replace('type="HostSystem"', 'type="Host>System"')))?.[0]?.entity.type, 'Host>System');
  assert.deepEqual(scanQueryPerfResponse(envelope('').replace('<QueryPerfResponse xmlns="urn:vim25"></QueryPerfResponse>', '<QueryPerfResponse xmlns="urn:vim25"/>')), []);
});

void test('the same values as the generic parser on the answer it also reads', () => {
  const body = envelope(
    `<returnval xsi:type="PerfEntityMetric"><entity type="VirtualMachine">vm-3</entity>${sample('2026-01-01T00:00:20Z')}${series(6, '', [7])}</returnval>`,
  );
  const generic = parseXml(body, { valueElements: new Set(['returnval']) });
  const returnval = generic.children[0]?.children[0]?.children[0];
  assert.ok(returnval);
  const value = elementValue(returnval) as Record<string, Record<string, unknown>>;
  const scanned = scanQueryPerfResponse(body)?.[0];
  assert.deepEqual(value['entity'], scanned?.entity);
  assert.equal(Number((value['value'] as unknown as Record<string, unknown>)['value']), scanned?.series[0]?.values[0]);
});

void test('anything but the plain shape is left to the generic parser (null)', () => {
  const good = `<returnval xsi:type="PerfEntityMetric"><entity type="VirtualMachine">vm-1</entity>${sample('2026-01-01T00:00:20Z')}${series(2, '', [1])}</returnval>`;
  const cases: Record<string, string> = {
    'a CSV result': envelope('<returnval xsi:type="PerfEntityMetricCSV"><entity type="VirtualMachine">vm-1</entity><sampleInfoCSV>20,2026-01-01T00:00:20Z</sampleInfoCSV></returnval>'),
    'a CSV series': envelope(good.replace('xsi:type="PerfMetricIntSeries"', 'xsi:type="PerfMetricSeriesCSV"')),
    'an unknown element': envelope(good.replace('</returnval>', '<extra>1</extra></returnval>')),
    'a comment': envelope(good.replace('<entity', '<!-- x --><entity')),
    CDATA: envelope(good.replace('vm-1', '<![CDATA[vm-1]]>')),
    'a truncated document': envelope(good).slice(0, -30),
    'text after the envelope': `${envelope(good)}<more/>`,
    'a fault': envelope('').replace('<QueryPerfResponse xmlns="urn:vim25"></QueryPerfResponse>', '<soapenv:Fault><faultstring>x</faultstring></soapenv:Fault>'),
    'another answer': envelope('').replace(/QueryPerfResponse/g, 'RetrievePropertiesExResponse'),
    'no SOAP envelope namespace': envelope(good).replace('http://schemas.xmlsoap.org/soap/envelope/', 'urn:other'),
    'a header': envelope(good).replace('<soapenv:Body>', '<soapenv:Header/><soapenv:Body>'),
    'a sample without timestamp': envelope(good.replace('<timestamp>2026-01-01T00:00:20Z</timestamp>', '')),
    'a bad timestamp': envelope(good.replace('2026-01-01T00:00:20Z', 'yesterday')),
    'a value that is not a number': envelope(good.replace('<value>1</value>', '<value>one</value>')),
    'a mismatched end tag': envelope(good.replace('</entity>', '</entitx>')),
    'two entities': envelope(good.replace('</entity>', '</entity><entity type="VirtualMachine">vm-2</entity>')),
    'a series without counter': envelope(good.replace('<counterId>2</counterId>', '')),
    'an end tag with another prefix': envelope(good.replace('<entity type="VirtualMachine">vm-1</entity>', '<a:entity xmlns:a="urn:vim25" type="VirtualMachine">vm-1</b:entity>')),
    'an empty body': '',
    garbage: '\u0000\u0001{{{',
  };
  for (const [name, body] of Object.entries(cases)) assert.equal(scanQueryPerfResponse(body), null, name);
});

function retrieveEnvelope(inner: string, method = 'RetrievePropertiesEx'): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${XSI}">` +
    `<soapenv:Body><${method}Response xmlns="urn:vim25">${inner}</${method}Response></soapenv:Body></soapenv:Envelope>`
  );
}

/** What the client makes of a page the generic way. */
function generic(body: string): unknown {
  const response = child(parseXml(body, responseParsing), 'Body')?.children[0];
  assert.ok(response);
  return parseRetrieveResult(response);
}

const vcsimVal = (type: string, inner: string, extra = ''): string => `<val xmlns:XMLSchema-instance="${XSI}" XMLSchema-instance:type="${type}"${extra}>${inner}</val>`;
const prop = (name: string, val: string): string => `<propSet><name>${name}</name>${val}</propSet>`;

void test('RetrievePropertiesEx pages: the same objects as the generic parser, value by value', () => {
  const vm = (i: number): string =>
    `<objects><obj type="VirtualMachine">vm-${String(i)}</obj>` +
    prop('name', vcsimVal('xsd:string', `DC0_VM${String(i)} &amp; co`)) +
    prop('summary.config.numCpu', vcsimVal('xsd:int', String(i))) +
    prop('summary.storage.committed', vcsimVal('xsd:long', '123456789012')) +
    prop('summary.config.template', vcsimVal('xsd:boolean', 'false')) +
    prop('runtime.powerState', vcsimVal('VirtualMachinePowerState', 'poweredOn')) +
    prop('runtime.host', vcsimVal('ManagedObjectReference', 'host-1', ' type="HostSystem"')) +
    prop('datastore', vcsimVal('ArrayOfManagedObjectReference', '<ManagedObjectReference type="Datastore">ds-1</ManagedObjectReference><ManagedObjectReference type="Datastore">ds-2</ManagedObjectReference>')) +
    prop('guest.toolsVersion', vcsimVal('xsd:string', '')) +
    prop('summary.quickStats', vcsimVal('VirtualMachineQuickStats', '')) +
    prop('historicalInterval', vcsimVal('ArrayOfPerfInterval', '')) +
    prop('empty.list', '<val xsi:type="ArrayOfString"/>') +
    prop('empty.record', '<val xsi:type="HostListSummaryQuickStats"/>') +
    prop('guest.ipAddress', '<val xsi:type="xsd:string">10.0.0.1</val>') +
    prop(
      'config.network.pnic',
      vcsimVal(
        'ArrayOfPhysicalNic',
        '<PhysicalNic><key>k0</key><device>vmnic0</device><linkSpeed><speedMb>10000</speedMb><duplex>true</duplex></linkSpeed></PhysicalNic>' +
          '\n  <PhysicalNic xsi:type="PhysicalNic"><device>vmnic1</device></PhysicalNic>',
      ),
    ) +
    prop('snapshot.rootSnapshotList', vcsimVal('ArrayOfVirtualMachineSnapshotTree', '<VirtualMachineSnapshotTree><name>a</name><childSnapshotList><name>b</name></childSnapshotList><childSnapshotList><name>c</name></childSnapshotList></VirtualMachineSnapshotTree>')) +
    prop('host', vcsimVal('ArrayOfDatastoreHostMount', '<DatastoreHostMount><key type="HostSystem">host-1</key><mountInfo><path>/p</path><accessible>true</accessible></mountInfo></DatastoreHostMount>')) +
    '<propSet><name>no value</name></propSet>' +
    '</objects>';
  const pages = [
    retrieveEnvelope(`<returnval>${vm(1)}${vm(2)}<token>t-1</token></returnval>`),
    retrieveEnvelope(`<returnval>\n${vm(3)}\n</returnval>`, 'ContinueRetrievePropertiesEx'),
    retrieveEnvelope('<returnval></returnval>'),
    retrieveEnvelope(''),
    retrieveEnvelope(`<returnval><token></token>${vm(4)}</returnval>`),
  ];
  for (const [i, page] of pages.entries()) {
    const method = page.includes('ContinueRetrievePropertiesExResponse') ? 'ContinueRetrievePropertiesEx' : 'RetrievePropertiesEx';
    const scanned = scanRetrieveResponse(page, method);
    assert.ok(scanned, `page ${String(i)} is plain`);
    assert.deepEqual(scanned, generic(page), `page ${String(i)}`);
  }
  const first = scanRetrieveResponse(pages[0] ?? '', 'RetrievePropertiesEx');
  assert.equal(first?.token, 't-1');
  assert.deepEqual(first?.objects[0]?.props['datastore'], [
    { type: 'Datastore', value: 'ds-1' },
    { type: 'Datastore', value: 'ds-2' },
  ]);
  assert.equal(first?.objects[0]?.props['name'], 'DC0_VM1 & co');
  assert.equal(first?.objects[0]?.props['summary.storage.committed'], 123456789012);
  assert.deepEqual(first?.objects[0]?.props['historicalInterval'], []);
  assert.deepEqual(first?.objects[0]?.props['empty.list'], []);
  assert.deepEqual(first?.objects[0]?.props['empty.record'], { $type: 'HostListSummaryQuickStats' });
});

void test('RetrievePropertiesEx pages the fast reader leaves to the generic parser (null)', () => {
  const good = `<returnval><objects><obj type="VirtualMachine">vm-1</obj>${prop('name', vcsimVal('xsd:string', 'a'))}</objects></returnval>`;
  const cases: Record<string, string> = {
    'a missingSet (vcsim reports an expired session there)': retrieveEnvelope(good.replace('</objects>', '<missingSet><path>summary</path><fault><fault xsi:type="NotAuthenticated"/></fault></missingSet></objects>')),
    'a fault': retrieveEnvelope('').replace('<RetrievePropertiesExResponse xmlns="urn:vim25"></RetrievePropertiesExResponse>', '<soapenv:Fault><faultstring>x</faultstring></soapenv:Fault>'),
    'another method': retrieveEnvelope(good, 'QueryPerf'),
    'a comment in a value': retrieveEnvelope(good.replace('>a</val>', '><!-- c -->a</val>')),
    'an object without moRef type': retrieveEnvelope(good.replace('<obj type="VirtualMachine">', '<obj>')),
    'two returnvals': retrieveEnvelope(good + good),
    'an unknown element in an object': retrieveEnvelope(good.replace('</objects>', '<other/></objects>')),
    'a mismatched end tag': retrieveEnvelope(good.replace('</propSet>', '</propset>')),
    'a truncated page': retrieveEnvelope(good).slice(0, -40),
    'text after the envelope': `${retrieveEnvelope(good)}x`,
  };
  for (const [name, body] of Object.entries(cases)) assert.equal(scanRetrieveResponse(body, 'RetrievePropertiesEx'), null, name);
});
