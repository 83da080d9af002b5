import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { EngineAuthFailed, EngineRejected, EngineUnavailable, QueryFailed } from './errors.ts';
import { PromqlClient, bucketColumns, bucketOffsetMs, bucketRange, parseSampleValue, promqlString, rawBucketQueries, rollupBucketQueries } from './promql.ts';

void describe('bucket alignment', () => {
  void it('evaluates each bucket at B + 2S, aligned on the step', () => {
    assert.deepEqual(bucketRange(1000, 2000, 300), { bucketStartsSec: [1200, 1500, 1800], startSec: 1800, endSec: 2400, stepSec: 300 });
    assert.equal(bucketRange(1001, 1199, 300), null);
  });

  void it('ends the window half a second before the last sample end of the bucket', () => {
    // Window [t - O - S, t - O] at t = B + 2S: for raw 20 s samples [B + 19.5 s, B + S + 19.5 s].
    const stepSec = 300;
    const offsetSec = bucketOffsetMs(stepSec, 20) / 1000;
    const bucket = 6000;
    const windowEnd = bucket + 2 * stepSec - offsetSec;
    assert.equal(windowEnd - stepSec, bucket + 19.5);
    assert.equal(windowEnd, bucket + stepSec + 19.5);
    assert.equal(bucketOffsetMs(300, 1), 299_500);
    assert.throws(() => bucketOffsetMs(300, 301), RangeError);
  });

  void it('builds one query per statistic, each series tagged with its metric', () => {
    const queries = rawBucketQueries(['a_b', 'c'], 'vm-"1"', 300);
    assert.equal(
      queries.avg,
      'label_replace(avg_over_time(a_b{entity_id="vm-\\"1\\""}[300s] offset 280500ms), "metric", "a_b", "", "") or ' +
        'label_replace(avg_over_time(c{entity_id="vm-\\"1\\""}[300s] offset 280500ms), "metric", "c", "", "")',
    );
    assert.match(queries.max, /^label_replace\(max_over_time\(/);
    assert.throws(() => rawBucketQueries(['a-b'], 'x', 300), RangeError);
  });

  void it('merges rollups per metric over realtime rollups and the tier history', () => {
    const queries = rollupBucketQueries('vm-1', '1d', 86_400);
    assert.equal(queries.sum, 'sum by (metric) (sum_over_time(vscope_rollup_sum{entity_id="vm-1",rollup=~"5m|history_1d"}[86400s] offset 86399500ms))');
    assert.equal(queries.count, 'sum by (metric) (sum_over_time(vscope_rollup_count{entity_id="vm-1",rollup=~"5m|history_1d"}[86400s] offset 86399500ms))');
    assert.match(queries.min, /^min by \(metric\) \(min_over_time\(vscope_rollup_min\{/);
    assert.match(queries.max, /^max by \(metric\) \(max_over_time\(vscope_rollup_max\{/);
  });

  void it('lays results on the buckets, gaps as null, converted', () => {
    const range = bucketRange(0, 900, 300);
    assert.ok(range);
    const columns = bucketColumns(
      [{ labels: { metric: 'm' }, timestampsMs: [600_000, 1_200_000, 99_000], values: [2, 4, 8] }],
      range,
      'metric',
      (value) => value / 2,
    );
    assert.deepEqual([...columns], [['m', [1, null, 2, null]]]);
  });

  void it('parses sample values the API writes', () => {
    assert.equal(parseSampleValue('1.5e3'), 1500);
    assert.equal(parseSampleValue('+Inf'), Number.POSITIVE_INFINITY);
    assert.ok(Number.isNaN(parseSampleValue('NaN')));
    assert.throws(() => parseSampleValue(''), RangeError);
    assert.equal(promqlString('a\\b\n'), '"a\\\\b\\n"');
  });
});

void describe('PromqlClient against a protocol peer', () => {
  const requests: URLSearchParams[] = [];
  let answer: (form: URLSearchParams) => { status: number; body: string } = () => ({ status: 200, body: '' });
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      form.set('path', req.url ?? '');
      requests.push(form);
      const { status, body: text } = answer(form);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(text);
    });
  });
  let client: PromqlClient;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new PromqlClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/prom`, version: 't', maxPointsPerQuery: 3 });
  });
  after(async () => {
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  void it('splits a long range into requests of at most N points and joins the series', async () => {
    requests.length = 0;
    answer = (form) => {
      const start = Number(form.get('start'));
      const end = Number(form.get('end'));
      const values: [number, string][] = [];
      for (let t = start; t <= end; t += 10) values.push([t, String(t / 10)]);
      return { status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { metric: 'm' }, values }] } }) };
    };
    const series = await client.queryRange('up', { startSec: 0, endSec: 70, stepSec: 10 });
    assert.deepEqual(
      requests.map((form) => [form.get('path'), form.get('start'), form.get('end'), form.get('step'), form.get('nocache')]),
      [
        ['/prom/api/v1/query_range', '0', '20', '10', '1'],
        ['/prom/api/v1/query_range', '30', '50', '10', '1'],
        ['/prom/api/v1/query_range', '60', '70', '10', '1'],
      ],
    );
    assert.deepEqual(series, [{ labels: { metric: 'm' }, timestampsMs: [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000], values: [0, 1, 2, 3, 4, 5, 6, 7] }]);
  });

  void it('answers the raw samples of a range selector', async () => {
    answer = () => ({ status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { __name__: 'x' }, values: [[1.5, '2']] }] } }) });
    assert.deepEqual(await client.query('x[1m]', 60.25), { resultType: 'matrix', series: [{ labels: { __name__: 'x' }, timestampsMs: [1500], values: [2] }] });
    assert.equal(requests.at(-1)?.get('time'), '60.250');
  });

  const failures: { name: string; status: number; body: string; check: (error: unknown) => boolean }[] = [
    {
      name: 'a query error with the engine message',
      status: 422,
      body: JSON.stringify({ status: 'error', errorType: 'execution', error: 'exceeded maximum resolution of 11,000 points per timeseries' }),
      check: (error) => error instanceof QueryFailed && error.errorType === 'execution' && /11,000/.test(error.message),
    },
    { name: 'an auth failure', status: 403, body: 'forbidden', check: (error) => error instanceof EngineAuthFailed && error.status === 403 },
    { name: 'an overloaded engine', status: 503, body: 'busy', check: (error) => error instanceof EngineUnavailable && error.status === 503 },
    { name: 'something that is not the API', status: 200, body: '<html>login</html>', check: (error) => error instanceof EngineRejected && /PromQL URL/.test(error.message) },
    { name: 'a wrong shape', status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[1, 2]] }] } }), check: (error) => error instanceof EngineRejected },
  ];
  for (const c of failures) {
    void it(`reports ${c.name}`, async () => {
      answer = () => ({ status: c.status, body: c.body });
      await assert.rejects(client.query('up', 1), c.check);
    });
  }
});
