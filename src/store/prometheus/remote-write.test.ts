import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { EngineAuthFailed, EngineRejected, EngineUnavailable, SampleTooOld } from './errors.ts';
import { parseRetryAfter } from './http.ts';
import { RemoteWriteClient, encodeWriteRequest, isTooOldAnswer, snappyCompress, snappyUncompress, type Series } from './remote-write.ts';

/** A minimal protobuf reader for WriteRequest, written from the wire format, not from the encoder. */
function readVarint(bytes: Uint8Array, at: { pos: number }): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = bytes[at.pos++];
    if (byte === undefined) throw new Error('truncated varint');
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 128;
  }
}

function fields(bytes: Uint8Array): { field: number; wire: number; value: Uint8Array | number }[] {
  const out: { field: number; wire: number; value: Uint8Array | number }[] = [];
  const at = { pos: 0 };
  while (at.pos < bytes.length) {
    const key = readVarint(bytes, at);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) out.push({ field, wire, value: readVarint(bytes, at) });
    else if (wire === 1) {
      out.push({ field, wire, value: new DataView(bytes.buffer, bytes.byteOffset + at.pos, 8).getFloat64(0, true) });
      at.pos += 8;
    } else if (wire === 2) {
      const length = readVarint(bytes, at);
      out.push({ field, wire, value: bytes.subarray(at.pos, at.pos + length) });
      at.pos += length;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

interface Decoded {
  labels: { name: string; value: string }[];
  timestampsMs: number[];
  values: number[];
}

function decodeWriteRequest(bytes: Uint8Array): Decoded[] {
  const text = new TextDecoder();
  return fields(bytes).map(({ field, value }) => {
    assert.equal(field, 1);
    const series: Decoded = { labels: [], timestampsMs: [], values: [] };
    for (const inner of fields(value as Uint8Array)) {
      if (inner.field === 1) {
        const [name, val] = fields(inner.value as Uint8Array);
        series.labels.push({ name: text.decode(name?.value as Uint8Array), value: text.decode(val?.value as Uint8Array) });
      } else {
        assert.equal(inner.field, 2);
        const sample = fields(inner.value as Uint8Array);
        series.values.push(sample.find((f) => f.field === 1)?.value as number);
        series.timestampsMs.push(sample.find((f) => f.field === 2)?.value as number);
      }
    }
    return series;
  });
}

const vmSeries: Series = {
  labels: [
    { name: 'vm_name', value: 'web-01' },
    { name: '__name__', value: 'vmware_vm_cpu_ready_summation' },
    { name: 'entity_id', value: 'vm-42' },
    { name: 'cluster_name', value: '' },
    { name: 'dc_name', value: 'Paris é' },
  ],
  timestampsMs: [1_700_000_020_000, 1_700_000_040_000, 2 ** 53 - 1],
  values: [0, -1.5, 1.7976931348623157e308],
};

void describe('WriteRequest encoding', () => {
  void it('writes the bytes the protobuf wire format prescribes for one sample', () => {
    const bytes = encodeWriteRequest([{ labels: [{ name: '__name__', value: 'a' }], timestampsMs: [1], values: [1] }]);
    // WriteRequest.timeseries(1, len 28) { labels(1, len 13) { name(1) "__name__" value(2) "a" }
    //   samples(2, len 11) { value(1, fixed64) 1.0, timestamp(2, varint) 1 } }
    const expected = '0a1c' + '0a0d' + '0a085f5f6e616d655f5f' + '120161' + '120b' + '09000000000000f03f' + '1001';
    assert.equal(Buffer.from(bytes).toString('hex'), expected);
  });

  void it('sorts labels by name, leaves empty values out and keeps samples exact', () => {
    const [decoded] = decodeWriteRequest(encodeWriteRequest([vmSeries]));
    assert.deepEqual(decoded, {
      labels: [
        { name: '__name__', value: 'vmware_vm_cpu_ready_summation' },
        { name: 'dc_name', value: 'Paris é' },
        { name: 'entity_id', value: 'vm-42' },
        { name: 'vm_name', value: 'web-01' },
      ],
      timestampsMs: vmSeries.timestampsMs,
      values: vmSeries.values,
    });
  });

  const invalid: { name: string; series: Series; message: RegExp }[] = [
    { name: 'NaN', series: { ...vmSeries, values: [0, Number.NaN, 1] }, message: /not finite/ },
    { name: 'Infinity', series: { ...vmSeries, values: [0, 1, Number.POSITIVE_INFINITY] }, message: /not finite/ },
    { name: 'timestamps out of order', series: { ...vmSeries, timestampsMs: [2000, 1000, 3000] }, message: /strictly ascending/ },
    { name: 'a repeated timestamp', series: { ...vmSeries, timestampsMs: [1000, 1000, 3000] }, message: /strictly ascending/ },
    { name: 'fractional ms', series: { ...vmSeries, timestampsMs: [1000.5, 2000, 3000] }, message: /whole number/ },
    { name: 'negative time', series: { ...vmSeries, timestampsMs: [-1000, 2000, 3000] }, message: /whole number/ },
    { name: 'columns of different lengths', series: { ...vmSeries, values: [1] }, message: /3 timestamps for 1 values/ },
    { name: 'no __name__', series: { ...vmSeries, labels: [{ name: 'a', value: 'b' }] }, message: /__name__/ },
    { name: 'a bad metric name', series: { ...vmSeries, labels: [{ name: '__name__', value: 'a-b' }] }, message: /__name__/ },
    { name: 'a bad label name', series: { ...vmSeries, labels: [{ name: '__name__', value: 'a' }, { name: '1x', value: 'b' }] }, message: /invalid label name/ },
    { name: 'a label twice', series: { ...vmSeries, labels: [{ name: '__name__', value: 'a' }, { name: 'x', value: '1' }, { name: 'x', value: '2' }] }, message: /twice/ },
  ];
  for (const c of invalid) {
    void it(`refuses ${c.name}`, () => {
      assert.throws(() => encodeWriteRequest([c.series]), (error: unknown) => error instanceof RangeError && c.message.test(error.message));
    });
  }
});

void describe('snappy block format', () => {
  void it('round-trips and compresses repetitive protobuf', () => {
    const timestampsMs = Array.from({ length: 5000 }, (_, i) => 1_700_000_000_000 + i * 20_000);
    const raw = encodeWriteRequest([{ labels: vmSeries.labels, timestampsMs, values: timestampsMs.map((_, i) => i % 7) }]);
    const compressed = snappyCompress(raw);
    assert.deepEqual(Buffer.from(snappyUncompress(compressed)), Buffer.from(raw));
    assert.ok(compressed.length < raw.length / 2, `${compressed.length} bytes of ${raw.length}`);
  });
});

void describe('parseRetryAfter', () => {
  const nowMs = Date.parse('2026-01-01T00:00:00Z');
  const cases: { name: string; header: string | undefined; expected: number | null }[] = [
    { name: 'seconds', header: '3', expected: 3000 },
    { name: 'an HTTP date', header: 'Thu, 01 Jan 2026 00:00:10 GMT', expected: 10_000 },
    { name: 'a past date', header: 'Wed, 31 Dec 2025 23:00:00 GMT', expected: 0 },
    { name: 'nothing', header: undefined, expected: null },
    { name: 'garbage', header: 'soon', expected: null },
  ];
  for (const c of cases) void it(c.name, () => assert.equal(parseRetryAfter(c.header, nowMs), c.expected));
});

void describe('too-old answers', () => {
  const cases: { name: string; status: number; body: string; expected: boolean }[] = [
    { name: 'Prometheus 2.42 with an out-of-order window', status: 500, body: 'too old sample\n', expected: true },
    { name: 'Prometheus without one, older than the head', status: 400, body: 'out of bounds\n', expected: true },
    { name: 'Prometheus without one, older than the series', status: 400, body: 'out of order sample\n', expected: true },
    { name: 'Mimir', status: 400, body: 'the sample has been rejected because its timestamp is too old (err-mimir-sample-timestamp-too-old)', expected: true },
    { name: 'another 500', status: 500, body: 'write to WAL: no space left on device', expected: false },
    { name: 'a duplicate', status: 400, body: 'duplicate sample for timestamp', expected: false },
    { name: 'a 503', status: 503, body: 'too old sample', expected: false },
  ];
  for (const c of cases) void it(c.name, () => assert.equal(isTooOldAnswer(c.status, c.body), c.expected));
});

/** A protocol peer: answers each request with the next scripted answer and records what came. */
function scriptedServer(): {
  url: () => string;
  answers: { status: number; headers?: Record<string, string>; body?: string }[];
  received: { headers: IncomingMessage['headers']; body: Buffer }[];
  start: () => Promise<void>;
  stop: () => Promise<void>;
} {
  const answers: { status: number; headers?: Record<string, string>; body?: string }[] = [];
  const received: { headers: IncomingMessage['headers']; body: Buffer }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const answer = answers.shift() ?? { status: 204 };
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  });
  return {
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`,
    answers,
    received,
    start: () => new Promise((resolve) => server.listen(0, '127.0.0.1', resolve)),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

void describe('RemoteWriteClient against a protocol peer', () => {
  const peer = scriptedServer();
  const delays: number[] = [];
  let client: RemoteWriteClient;
  before(async () => {
    await peer.start();
    client = new RemoteWriteClient({
      url: peer.url(),
      version: '1.2.3',
      auth: { bearerToken: 's3cret' },
      headers: { 'X-Scope-OrgID': 'tenant-7' },
      maxSamplesPerRequest: 2,
      retry: { initialDelayMs: 100, maxDelayMs: 400, maxElapsedMs: 5000 },
      random: () => 1,
      sleep: async (ms) => {
        delays.push(ms);
        await Promise.resolve();
      },
    });
  });
  after(async () => {
    await client.close();
    await peer.stop();
  });
  const reset = (): void => {
    peer.answers.length = 0;
    peer.received.length = 0;
    delays.length = 0;
  };
  const three: Series[] = [{ labels: [{ name: '__name__', value: 'm' }], timestampsMs: [1000, 2000, 3000], values: [1, 2, 3] }];

  void it('splits a write into requests of at most N samples with the remote write headers', async () => {
    reset();
    const summary = await client.write([...three, { labels: [{ name: '__name__', value: 'n' }], timestampsMs: [1000, 2000], values: [4, 5] }]);
    assert.deepEqual(summary, { requests: 3, samples: 5, retries: 0 });
    const decoded = peer.received.map(({ body }) => decodeWriteRequest(snappyUncompress(body)));
    assert.deepEqual(
      decoded.map((request) => request.map((series) => [series.labels[0]?.value, series.values])),
      [[['m', [1, 2]]], [['m', [3]], ['n', [4]]], [['n', [5]]]],
    );
    const headers = peer.received[0]?.headers ?? {};
    assert.equal(headers['content-encoding'], 'snappy');
    assert.equal(headers['content-type'], 'application/x-protobuf');
    assert.equal(headers['x-prometheus-remote-write-version'], '0.1.0');
    assert.equal(headers['user-agent'], 'vscope/1.2.3');
    assert.equal(headers['authorization'], 'Bearer s3cret');
    assert.equal(headers['x-scope-orgid'], 'tenant-7');
  });

  void it('retries a 429 after its Retry-After and a 500 with backoff, then resolves', async () => {
    reset();
    peer.answers.push({ status: 429, headers: { 'retry-after': '2' }, body: 'slow down' }, { status: 500, body: 'boom' }, { status: 500, body: 'boom' }, { status: 204 });
    const summary = await client.write([{ labels: [{ name: '__name__', value: 'm' }], timestampsMs: [1000], values: [1] }]);
    assert.deepEqual(summary, { requests: 1, samples: 1, retries: 3 });
    // Retry-After: 2 s as asked; then 100 * 2^1 and 100 * 2^2 ms (random() = 1: the whole backoff).
    assert.deepEqual(delays, [2000, 200, 400]);
    assert.equal(peer.received.length, 4);
    assert.deepEqual(peer.received[0]?.body, peer.received[3]?.body);
  });

  void it('does not retry a 400 and reports the engine message', async () => {
    reset();
    peer.answers.push({ status: 400, body: 'label name "x" is not unique' });
    await assert.rejects(client.write(three), (error: unknown) => error instanceof EngineRejected && error.status === 400 && /not unique/.test(error.message));
    assert.equal(peer.received.length, 1);
  });

  void it('reports a too-old sample (HTTP 500) as SampleTooOld without retrying', async () => {
    reset();
    peer.answers.push({ status: 500, body: 'too old sample\n' });
    await assert.rejects(client.write(three), (error: unknown) => error instanceof SampleTooOld && error.status === 500 && error.code === 'sampleTooOld');
    assert.equal(peer.received.length, 1);
    assert.deepEqual(delays, []);
  });

  void it('reports 401 as an auth failure naming the setting, without the token', async () => {
    reset();
    peer.answers.push({ status: 401, body: 'unauthorized' });
    await assert.rejects(
      client.write(three),
      (error: unknown) => error instanceof EngineAuthFailed && /bearer token or basic auth/.test(error.message) && !error.message.includes('s3cret'),
    );
  });

  void it('gives up with EngineUnavailable once the retry budget is spent', async () => {
    reset();
    for (let i = 0; i < 100; i++) peer.answers.push({ status: 503, body: 'unavailable' });
    const budgeted = new RemoteWriteClient({ url: peer.url(), version: 't', retry: { initialDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 150 } });
    await assert.rejects(budgeted.write(three), (error: unknown) => error instanceof EngineUnavailable && error.attempts > 1 && error.status === 503);
    await budgeted.close();
  });

  void it('retries a refused connection', async () => {
    const closed = scriptedServer();
    await closed.start();
    const url = closed.url();
    await closed.stop();
    const unreachable = new RemoteWriteClient({ url, version: 't', retry: { initialDelayMs: 1, maxDelayMs: 2, maxElapsedMs: 100 } });
    await assert.rejects(unreachable.write(three), (error: unknown) => error instanceof EngineUnavailable && error.status === null && /ECONNREFUSED/.test(error.message));
    await unreachable.close();
  });

  void it('checks every series before sending anything', async () => {
    reset();
    await assert.rejects(client.write([...three, { ...three[0]!, values: [1, Number.NaN, 3] }]), RangeError);
    assert.equal(peer.received.length, 0);
  });

  void it('refuses credentials inside the URL', () => {
    assert.throws(() => new RemoteWriteClient({ url: 'http://user:pw@127.0.0.1:1/api/v1/write', version: 't' }), (error: unknown) => error instanceof EngineRejected && !error.message.includes('pw'));
  });
});
