import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanQueryPerfResponse, scanRetrieveResponse } from './plain-xml.ts';
import { parsePerfEntityMetric, parseRetrieveResult } from './client.ts';
import { responseParsing } from './soap.ts';
import { child, childrenNamed, elementValue, parseXml } from './xml.ts';

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

/** What the client makes of a QueryPerf answer the generic way. */
function genericPerf(body: string): unknown {
  const response = child(parseXml(body, responseParsing), 'Body')?.children[0];
  assert.ok(response);
  return childrenNamed(response, 'returnval').flatMap((element) => parsePerfEntityMetric(elementValue(element)) ?? []);
}

/** The plain reader's answer, which must exist and equal the generic one. */
function samePerf(body: string, what: string): ReturnType<typeof scanQueryPerfResponse> {
  const scanned = scanQueryPerfResponse(body);
  assert.ok(scanned, `${what}: plain`);
  assert.deepEqual(scanned, genericPerf(body), what);
  return scanned;
}

const vcsimReturnval = (entity: string, inner: string, type = 'VirtualMachine'): string =>
  `<returnval xmlns:XMLSchema-instance="${XSI}" XMLSchema-instance:type="PerfEntityMetric"><entity type="${type}">${entity}</entity>${inner}</returnval>`;
const vcsimSeries = (counterId: number, instance: string, values: readonly (number | string)[]): string =>
  `<value XMLSchema-instance:type="PerfMetricIntSeries"><id><counterId>${String(counterId)}</counterId><instance>${instance}</instance></id>${values.map((v) => `<value>${String(v)}</value>`).join('')}</value>`;

void test('QueryPerf, entity after entity: the series and samples compared whole with the previous ones give the generic values', () => {
  const samples = (second: number): string => sample(`2026-01-01T00:01:00.${String(second)}Z`) + sample(`2026-01-01T00:00:40.${String(second)}Z`);
  const entities = [
    vcsimReturnval('vm-1', samples(1) + vcsimSeries(2, '', [30, 20]) + vcsimSeries(6, '*', [-5, 0]) + vcsimSeries(143, 'vmnic0', [7, 8])),
    // Same counters, instances that change at the same index, shared timestamps (a history query's).
    vcsimReturnval('vm-2', samples(1) + vcsimSeries(2, '', [1, 2]) + vcsimSeries(6, '*', [3, 4]) + vcsimSeries(143, 'vmnic1', [5, 6])),
    // An instance that only starts like the previous one, a non-ASCII one, an escaped one, an empty series.
    vcsimReturnval('vm-3', samples(2) + vcsimSeries(2, '*x', [1, 2]) + vcsimSeries(6, 'ünïcödé-磁盘', [3, 4]) + vcsimSeries(143, 'vmnic&lt;1&gt;', [5, 6]) + vcsimSeries(9, '', [])),
    // Values the in-place integers leave to the general path: spaces, fractions, exponents, 16 digits, an entity.
    vcsimReturnval('vm-4', samples(3) + vcsimSeries(2, '', [' 7 ', '1.5']) + vcsimSeries(6, '*', ['1e3', '-2E-1']) + vcsimSeries(143, 'vmnic0', ['1234567890123456', '&#52;2'])),
    // 15 digits and negative numbers, read in place.
    vcsimReturnval('vm-5', samples(4) + vcsimSeries(2, '', [-999999999999999, 999999999999999]) + vcsimSeries(6, '*', [-1, '-0'])),
    // A sample the general way (interval first), a timestamp with an entity reference, one without interval.
    vcsimReturnval(
      'vm-6',
      '<sampleInfo><interval>20</interval><timestamp>2026-01-01T00:01:00Z</timestamp></sampleInfo>' +
        '<sampleInfo><timestamp>&#50;026-01-01T00:00:40Z</timestamp><interval>20</interval></sampleInfo>' +
        '<sampleInfo><timestamp>2026-01-01T00:00:20Z</timestamp></sampleInfo>' +
        vcsimSeries(2, '', [3, 2, 1]),
    ),
    // A series with another start tag (vCenter's prefix), then the vcsim one again.
    vcsimReturnval('host-7', samples(5) + series(2, '', [1, 2], `xmlns:xsi="${XSI}" xsi:type="PerfMetricIntSeries"`) + vcsimSeries(6, '', [3, 4]), 'HostSystem'),
  ];
  const body = envelope(entities.join(''));
  const scanned = samePerf(body, 'entities');
  assert.equal(scanned?.length, entities.length);
  assert.deepEqual(
    scanned?.[2]?.series.map((s) => s.instance),
    ['*x', 'ünïcödé-磁盘', 'vmnic<1>', ''],
  );
  assert.deepEqual(scanned?.[3]?.series.flatMap((s) => s.values), [1.5, 7, -0.2, 1000, 42, 1234567890123456]);
  assert.deepEqual(scanned?.[4]?.series.flatMap((s) => s.values), [999999999999999, -999999999999999, -0, -1]);
  assert.deepEqual(scanned?.[5]?.samples, [
    { tsSec: t0, intervalSec: 0 },
    { tsSec: t0 + 20, intervalSec: 20 },
    { tsSec: t0 + 40, intervalSec: 20 },
  ]);
  // Entities of one kind by the thousand, as a page of 50 answers.
  const many = Array.from({ length: 3000 }, (_, i) => vcsimReturnval(`vm-${String(i)}`, samples(i % 7) + vcsimSeries(2, '', [i, -i]) + vcsimSeries(6, i % 2 === 0 ? '' : '*', [i * 3]))).join('');
  assert.equal(samePerf(envelope(many), 'many')?.length, 3000);
});

void test('QueryPerf: whatever breaks the plain shape after entities read the fast way is refused (null), every cut too', () => {
  const good = vcsimReturnval('vm-1', sample('2026-01-01T00:00:20Z') + vcsimSeries(2, '', [1]) + vcsimSeries(6, '*', [2]));
  const cases: Record<string, string> = {
    'a value that is not a number': good.replace('<value>2</value>', '<value>two</value>'),
    'a counter that is not a number': good.replace('<counterId>6</counterId>', '<counterId>six</counterId>'),
    'a comment in the values': good.replace('<value>2</value>', '<value>2</value><!-- c -->'),
    'an unknown element in a series': good.replace('<value>2</value>', '<value>2</value><other/>'),
    'an unknown element in a sample': good.replace('<interval>20</interval>', '<interval>20</interval><other/>'),
    'a bad timestamp': good.replace('2026-01-01T00:00:20Z', '2026-13-01T00:00:20Z'),
    'CDATA in an instance': good.replace('<instance>*</instance>', '<instance><![CDATA[*]]></instance>'),
    'a mismatched series end': good.replace('<value>2</value></value>', '<value>2</value></valux>'),
    'a series of another type': good.replace('<value XMLSchema-instance:type="PerfMetricIntSeries"><id><counterId>6', '<value XMLSchema-instance:type="PerfMetricSeriesCSV"><id><counterId>6'),
  };
  for (const [name, broken] of Object.entries(cases)) assert.equal(scanQueryPerfResponse(envelope(good + good + broken)), null, name);
  // A series start tag read before, whose prefix the next entity binds to XSI: there it names a CSV series.
  const other = (ns: string, entity: string): string =>
    `<returnval xmlns:a="${ns}"><entity type="VirtualMachine">${entity}</entity>${sample('2026-01-01T00:00:20Z')}${series(2, '', [1], 'a:type="PerfMetricSeriesCSV"')}</returnval>`;
  assert.ok(scanQueryPerfResponse(envelope(other('urn:other', 'vm-1') + other('urn:other', 'vm-2'))));
  assert.equal(scanQueryPerfResponse(envelope(other('urn:other', 'vm-1') + other(XSI, 'vm-2'))), null, 'a CSV series under another scope');
  const body = envelope(good + good);
  assert.ok(scanQueryPerfResponse(body));
  for (let cut = 0; cut < body.length; cut++) assert.equal(scanQueryPerfResponse(body.slice(0, cut)), null, `cut at ${String(cut)}`);
});

void test('RetrievePropertiesEx, object after object: propSets compared whole with the previous object give the generic values', () => {
  const object = (i: number, values: Record<string, string>): string =>
    `<objects><obj type="VirtualMachine">vm-${String(i)}</obj>` + Object.entries(values).map(([name, val]) => prop(name, val)).join('') + '</objects>';
  const base = (i: number): Record<string, string> => ({
    name: vcsimVal('xsd:string', `VM ${String(i)}`),
    'summary.config.numCpu': vcsimVal('xsd:int', String(i)),
    'runtime.host': vcsimVal('ManagedObjectReference', `host-${String(i)}`, ' type="HostSystem"'),
    datastore: vcsimVal('ArrayOfManagedObjectReference', `<ManagedObjectReference type="Datastore">ds-${String(i)}</ManagedObjectReference>`),
    'guest.toolsVersion': vcsimVal('xsd:string', ''),
    empty: '<val xsi:type="ArrayOfString"/>',
    'summary.quickStats': vcsimVal('VirtualMachineQuickStats', `<overallCpuUsage>${String(i)}</overallCpuUsage>`),
  });
  const objects = [
    object(1, base(1)),
    object(2, base(2)),
    // Same heads, values the leaf path must decode or type: entities, non-ASCII, empty, negative, exponent.
    object(3, { ...base(3), name: vcsimVal('xsd:string', 'a &amp; b &lt;c&gt; &#233;&#x1F600; ünï'), 'summary.config.numCpu': vcsimVal('xsd:int', '-4') }),
    object(4, { ...base(4), name: vcsimVal('xsd:string', ''), 'summary.config.numCpu': vcsimVal('xsd:int', ' 1e3 ') }),
    // A value that changes type at the same index, a self-closed one, one with a child where a leaf was.
    object(5, { ...base(5), 'summary.config.numCpu': vcsimVal('xsd:string', '5'), 'guest.toolsVersion': `<val xmlns:XMLSchema-instance="${XSI}" XMLSchema-instance:type="xsd:string"/>` }),
    object(6, { ...base(6), name: vcsimVal('NamedThing', '<nämé>x</nämé><nämé>y</nämé>') }),
    // Names that change at an index, a name with an entity, a non-ASCII name, a propSet without value.
    object(7, { 'a&amp;b': vcsimVal('xsd:int', '7'), 'ñame.日本': vcsimVal('xsd:int', '8'), ...base(7) }) + '<objects><obj type="VirtualMachine">vm-8</obj><propSet><name>name</name></propSet></objects>',
    object(9, { 'a&amp;b': vcsimVal('xsd:int', '9'), 'ñame.日本': vcsimVal('xsd:boolean', 'true') }),
    // vCenter-style values: xsi declared on the envelope, a prefixed value element.
    object(10, { name: '<val xsi:type="xsd:string">v</val>', count: '<v:val xmlns:v="urn:vim25" xsi:type="xsd:int">10</v:val>' }),
    object(11, { name: '<val xsi:type="xsd:string">w</val>', count: '<v:val xmlns:v="urn:vim25" xsi:type="xsd:int">11</v:val>' }),
  ];
  const page = retrieveEnvelope(`<returnval>${objects.join('')}<token>t</token></returnval>`);
  const scanned = scanRetrieveResponse(page, 'RetrievePropertiesEx');
  assert.ok(scanned, 'plain');
  assert.deepEqual(scanned, generic(page));
  const props = scanned.objects.map((o) => o.props);
  assert.equal(props[2]?.['name'], 'a & b <c> é😀 ünï');
  assert.equal(props[2]?.['summary.config.numCpu'], -4);
  assert.equal(props[3]?.['summary.config.numCpu'], 1000);
  assert.equal(props[3]?.['name'], '');
  assert.equal(props[4]?.['summary.config.numCpu'], '5');
  assert.equal(props[4]?.['guest.toolsVersion'], '');
  assert.deepEqual(props[5]?.['name'], { $type: 'NamedThing', nämé: ['x', 'y'] });
  assert.deepEqual(props[7], {});
  assert.deepEqual(props[8], { 'a&b': 9, 'ñame.日本': true });
  assert.deepEqual(props[10], { name: 'w', count: 11 });
  // A page of thousands of objects.
  const long = retrieveEnvelope(`<returnval>${Array.from({ length: 3000 }, (_, i) => object(i, base(i))).join('')}</returnval>`);
  const longScanned = scanRetrieveResponse(long, 'RetrievePropertiesEx');
  assert.equal(longScanned?.objects.length, 3000);
  assert.deepEqual(longScanned, generic(long));
});

void test('RetrievePropertiesEx: the same head under another namespace scope is read again, not taken from the previous object', () => {
  const object = (i: number, attrs = ''): string => `<objects${attrs}><obj type="VirtualMachine">vm-${String(i)}</obj>${prop('count', '<val xsi:type="xsd:int">5</val>')}</objects>`;
  // The second object binds `xsi` to another namespace: its `xsi:type` is no type, the value stays text.
  const page = retrieveEnvelope(`<returnval>${object(1)}${object(2, ' xmlns:xsi="urn:other"')}${object(3)}</returnval>`);
  const scanned = scanRetrieveResponse(page, 'RetrievePropertiesEx');
  assert.deepEqual(scanned, generic(page));
  assert.deepEqual(
    scanned?.objects.map((o) => o.props['count']),
    [5, '5', 5],
  );
});

void test('RetrievePropertiesEx: whatever breaks the plain shape after objects read the fast way is refused (null), every cut too', () => {
  const object = (i: number): string => `<objects><obj type="VirtualMachine">vm-${String(i)}</obj>${prop('name', vcsimVal('xsd:string', 'a'))}${prop('n', vcsimVal('xsd:int', '1'))}</objects>`;
  const good = object(1) + object(2);
  const cases: Record<string, string> = {
    'a comment in a value': object(3).replace('>a</val>', '>a<!-- c --></val>'),
    'a mismatched value end': object(3).replace('>a</val>', '>a</vaI>'),
    'a second value': object(3).replace('>a</val>', '>a</val><val>b</val>'),
    'an element after the value': object(3).replace('>a</val>', '>a</val><other/>'),
    'CDATA as a value': object(3).replace('>a</val>', '><![CDATA[a]]></val>'),
    'text after the propSet': object(3).replace('</propSet>', '</propSet>x<'),
  };
  for (const [name, broken] of Object.entries(cases)) assert.equal(scanRetrieveResponse(retrieveEnvelope(`<returnval>${good}${broken}</returnval>`), 'RetrievePropertiesEx'), null, name);
  const page = retrieveEnvelope(`<returnval>${good}${object(3)}</returnval>`);
  assert.ok(scanRetrieveResponse(page, 'RetrievePropertiesEx'));
  for (let cut = 0; cut < page.length; cut++) assert.equal(scanRetrieveResponse(page.slice(0, cut), 'RetrievePropertiesEx'), null, `cut at ${String(cut)}`);
});
