import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scanQueryPerfResponse } from './perf-xml.ts';
import { elementValue, parseXml } from './xml.ts';

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
    'a quoted > in an attribute': envelope(good.replace('<entity type="VirtualMachine">', '<entity type="Virtual>Machine">')),
    'an empty body': '',
    garbage: '\u0000\u0001{{{',
  };
  for (const [name, body] of Object.entries(cases)) assert.equal(scanQueryPerfResponse(body), null, name);
});
