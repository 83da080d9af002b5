import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NONE,
  faultToleranceHealth,
  fillHealth,
  formatAge,
  formatBytes,
  formatClock,
  formatDateTime,
  formatDuration,
  formatGB,
  formatGBFixed,
  formatKBps,
  formatLinkSpeed,
  formatMB,
  formatMetric,
  formatMhz,
  formatMs,
  formatNumber,
  formatPercent,
  formatPps,
  loadHealth,
  toCsv,
  toolsNeedAttention,
  toolsRunningHealth,
  toolsVersionHealth,
  toolsVersionLabel,
} from './format.ts';

type Case<I, O> = readonly [name: string, input: I, expected: O];

function table<I, O>(title: string, fn: (input: I) => O, cases: readonly Case<I, O>[]): void {
  for (const [name, input, expected] of cases) {
    void test(`${title}: ${name}`, () => assert.deepEqual(fn(input), expected));
  }
}

table('formatNumber', ([v, d]: readonly [number | null, number]) => formatNumber(v, d), [
  ['integer', [42, 0], '42'],
  ['thousands', [1234567, 0], '1,234,567'],
  ['decimals kept', [1234.5, 2], '1,234.50'],
  ['rounding', [0.126, 2], '0.13'],
  ['negative', [-1234.5, 1], '-1,234.5'],
  ['negative zero after rounding', [-0.001, 1], '0.0'],
  ['null', [null, 0], NONE],
  ['NaN', [Number.NaN, 0], NONE],
]);

table('formatBytes', formatBytes, [
  ['bytes', 512, '512 B'],
  ['one KB', 1024, '1 KB'],
  ['1.5 KB', 1536, '1.50 KB'],
  ['MB with 3 digits', 150 * 1024 * 1024, '150 MB'],
  ['GB', 12.5 * 1024 ** 3, '12.5 GB'],
  ['null', null, NONE],
]);

table('formatGB / formatMB', ([kind, v]: readonly ['GB' | 'MB' | 'GBFixed', number | null]) =>
  kind === 'GB' ? formatGB(v) : kind === 'MB' ? formatMB(v) : formatGBFixed(v), [
  ['GB under 1 TB', ['GB', 512], '512 GB'],
  ['GB fraction', ['GB', 0.5], '0.50 GB'],
  ['GB to TB', ['GB', 1536], '1.50 TB'],
  ['MB', ['MB', 4096], '4 GB'],
  ['MB small', ['MB', 800], '800 MB'],
  ['fixed GB keeps GB', ['GBFixed', 2048], '2,048 GB'],
  ['fixed GB small', ['GBFixed', 12.34], '12.3 GB'],
  ['fixed null', ['GBFixed', null], NONE],
]);

table('formatMhz', formatMhz, [
  ['MHz', 850, '850 MHz'],
  ['GHz', 2400, '2.40 GHz'],
  ['large', 57600, '57.60 GHz'],
  ['datacenter total', 56_000_000, '56.00 THz'],
  ['null', null, NONE],
]);

table('formatKBps', formatKBps, [
  ['KB/s', 512, '512 KB/s'],
  ['small KB/s', 3.25, '3.25 KB/s'],
  ['MB/s', 1536, '1.50 MB/s'],
  ['GB/s', 2 * 1024 * 1024, '2 GB/s'],
  ['zero', 0, '0 KB/s'],
]);

table('formatPercent', formatPercent, [
  ['one decimal', 42, '42.0 %'],
  ['rounded', 7.25, '7.3 %'],
  ['null', null, NONE],
]);

table('small units', ([kind, v]: readonly ['ms' | 'pps', number]) => (kind === 'ms' ? formatMs(v) : formatPps(v)), [
  ['ms', ['ms', 3.21], '3.2 ms'],
  ['ms large', ['ms', 250.4], '250 ms'],
  ['pps', ['pps', 1234.4], '1,234 pkt/s'],
]);

table('formatLinkSpeed', formatLinkSpeed, [
  ['10 Gb', 10000, '10 Gb/s'],
  ['2.5 Gb', 2500, '2.5 Gb/s'],
  ['100 Mb', 100, '100 Mb/s'],
  ['down', null, 'down'],
]);

table('formatMetric', ([v, unit]: readonly [number | null, string]) => formatMetric(v, unit), [
  ['percent', [12.34, 'percent'], '12.3 %'],
  ['MHz', [3000, 'MHz'], '3.00 GHz'],
  ['MB', [2048, 'MB'], '2 GB'],
  ['GB', [100, 'GB'], '100 GB'],
  ['KBps', [2048, 'KBps'], '2 MB/s'],
  ['iops', [12.5, 'iops'], '12.5 IOPS'],
  ['unknown unit', [12.5, 'widgets'], '12.5 widgets'],
  ['null', [null, 'ms'], NONE],
]);

table('formatDuration', formatDuration, [
  ['days and hours', 3 * 86400 + 4 * 3600 + 5 * 60, '3 d 4 h'],
  ['whole days', 3 * 86400 + 30, '3 d'],
  ['hours and minutes', 4 * 3600 + 12 * 60 + 9, '4 h 12 min'],
  ['minutes and seconds', 12 * 60 + 5, '12 min 5 s'],
  ['seconds', 45, '45 s'],
  ['zero', 0, '0 s'],
  ['negative', -5, '0 s'],
  ['null', null, NONE],
]);

const now = 1_700_000_000;
table('formatAge', (then: number | null) => formatAge(then, now), [
  ['just now', now - 3, 'just now'],
  ['future is just now', now + 30, 'just now'],
  ['seconds', now - 45, '45 s ago'],
  ['minutes', now - 150, '2 min ago'],
  ['hours', now - 3 * 3600 - 59, '3 h ago'],
  ['days', now - 2 * 86400 - 10, '2 d ago'],
  ['never', null, 'never'],
]);

void test('formatClock and formatDateTime use local time (tests run in UTC)', () => {
  assert.equal(process.env.TZ ?? 'UTC', 'UTC');
  // 2023-11-14T22:13:20Z
  assert.equal(formatClock(1_700_000_000), '22:13:20');
  assert.equal(formatDateTime(1_700_000_000), '2023-11-14 22:13');
  assert.equal(formatClock(null), NONE);
});

table('fillHealth', fillHealth, [
  ['empty', 0, 'ok'],
  ['just under 75', 74.9, 'ok'],
  ['75 is a warning', 75, 'warning'],
  ['90 is still a warning', 90, 'warning'],
  ['over 90', 90.1, 'critical'],
  ['unknown', null, 'unknown'],
]);

table('loadHealth', loadHealth, [
  ['low', 10, 'ok'],
  ['80', 80, 'warning'],
  ['95', 95, 'critical'],
]);

void test('Tools health depends on the power state', () => {
  assert.equal(toolsRunningHealth('guestToolsNotRunning', 'poweredOn'), 'warning');
  assert.equal(toolsRunningHealth('guestToolsNotRunning', 'poweredOff'), 'unknown');
  assert.equal(toolsRunningHealth('guestToolsRunning', 'poweredOn'), 'ok');
  assert.equal(toolsVersionHealth('guestToolsNeedUpgrade'), 'warning');
  assert.equal(toolsVersionHealth('guestToolsNotInstalled'), 'critical');
  assert.equal(toolsVersionHealth(null), 'unknown');
  assert.equal(toolsVersionLabel('guestToolsCurrent'), 'Current');
  assert.equal(toolsNeedAttention('guestToolsRunning', 'guestToolsCurrent', 'poweredOn'), false);
  assert.equal(toolsNeedAttention('guestToolsRunning', 'guestToolsNeedUpgrade', 'poweredOn'), true);
  assert.equal(toolsNeedAttention('guestToolsNotRunning', 'guestToolsCurrent', 'poweredOff'), false);
  assert.equal(faultToleranceHealth('needSecondary'), 'critical');
});

table('toCsv', (rows: readonly (readonly (string | number | boolean | null)[])[]) => toCsv(['a', 'b'], rows), [
  ['plain', [['x', 1]], 'a,b\r\nx,1\r\n'],
  ['quotes and commas', [['say "hi", ok', 2.5]], 'a,b\r\n"say ""hi"", ok",2.5\r\n'],
  ['line break', [['two\nlines', null]], 'a,b\r\n"two\nlines",\r\n'],
  ['formula injection', [['=1+1', -3]], "a,b\r\n'=1+1,-3\r\n"],
  ['markup stays text', [['<img src=x onerror=alert(1)>', true]], 'a,b\r\n<img src=x onerror=alert(1)>,true\r\n'],
]);
