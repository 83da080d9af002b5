/**
 * `vscope check` end to end: the CLI spawned with environment variables against the simulator
 * (https with its own CA and a required login), a closed port and an HTML server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { useVcsim } from './support/vcsim.ts';
import { formatCheck } from '../src/cli.ts';

const username = 'reader@vsphere.local';
const password = 'Ch3ck-Pa55word';
// Per datacenter: clusters 2, hosts 2×2+1 = 5, VMs 3 × (2 clusters + 1 standalone) = 9, datastores 2.
const sim = useVcsim({ datacenters: 1, clusters: 2, hostsPerCluster: 2, standaloneHosts: 1, vmsPerPool: 3, datastores: 2, username, password, tls: true });
const root = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function vscope(args: readonly string[], env: Record<string, string>): Promise<Run> {
  // Only what node needs from the outer environment: no VSCOPE_* leaks in from the caller.
  const base: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', TZ: 'UTC' };
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: root, env: { ...base, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function vcEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { VSCOPE_VCENTER_URL: sim.current.url, VSCOPE_VCENTER_USER: username, VSCOPE_VCENTER_PASSWORD: password, VSCOPE_VCENTER_NAME: 'lab', ...extra };
}

let htmlUrl = '';
let closedUrl = '';
const html = createHttpServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!DOCTYPE html><html><head><title>It works!</title></head><body><h1>It works!</h1></body></html>');
});

before(async () => {
  await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
  htmlUrl = `http://127.0.0.1:${String((html.address() as AddressInfo).port)}/sdk`;
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedUrl = `http://127.0.0.1:${String((probe.address() as AddressInfo).port)}/sdk`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
after(async () => {
  html.closeAllConnections();
  await new Promise<void>((resolve) => html.close(() => resolve()));
});

// Each case is its own process: run a few at once.
void describe('vscope check', { concurrency: 4 }, () => {
  void it('prints product, API, datacenters, counts and intervals, and exits 0', async () => {
    const caFile = sim.current.caFile;
    assert.ok(caFile);
    const run = await vscope(['check'], vcEnv({ VSCOPE_VCENTER_CA_FILE: caFile }));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^vCenter lab \(https:\/\/127\.0\.0\.1:\d+\/sdk\): OK$/m);
    assert.match(run.stdout, /product: VMware vCenter Server .*\(version \d+\.\d+/);
    assert.match(run.stdout, /API: VirtualCenter \d+\.\d+/);
    assert.match(run.stdout, /datacenters \(1\): DC0$/m);
    assert.match(run.stdout, /clusters: 2, hosts: 5, VMs: 9, datastores: 2$/m);
    assert.match(run.stdout, /statistics intervals: /);
    assert.ok(!run.stdout.includes(password) && !run.stderr.includes(password));
  });

  void it('refuses the untrusted certificate with the hint, exit 1', async () => {
    const run = await vscope(['check'], vcEnv());
    assert.equal(run.code, 1);
    assert.match(run.stdout, /vCenter lab .*: FAILED \(certificate\)/);
    const problems = run.stderr.trim().split('\n').filter((line) => line.startsWith('error: '));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^error: lab: the certificate of .* is not trusted .*set VSCOPE_VCENTER_CA_FILE .* or VSCOPE_VCENTER_INSECURE=true/);
  });

  void it('accepts the certificate in insecure mode, with a warning', async () => {
    const run = await vscope(['check'], vcEnv({ VSCOPE_VCENTER_INSECURE: 'true' }));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /VMs: 9/);
    assert.match(run.stderr, /^warning: certificate verification is disabled for vCenter lab/m);
  });

  void it('reports wrong credentials, exit 1, without the password', async () => {
    const wrong = 'Not-The-Pa55word';
    const run = await vscope(['check'], vcEnv({ VSCOPE_VCENTER_PASSWORD: wrong, VSCOPE_VCENTER_INSECURE: 'true' }));
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error: lab: vCenter refused the login of user "reader@vsphere\.local" \(wrong username or password\)/m);
    assert.ok(!`${run.stdout}${run.stderr}`.includes(wrong));
  });

  void it('reports an unreachable vCenter, exit 1', async () => {
    const run = await vscope(['check'], vcEnv({ VSCOPE_VCENTER_URL: closedUrl }));
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error: lab: cannot reach http:\/\/127\.0\.0\.1:\d+\/sdk \(ECONNREFUSED\)/m);
  });

  void it('reports an HTTP server that is not a vCenter, exit 1', async () => {
    const run = await vscope(['check'], vcEnv({ VSCOPE_VCENTER_URL: htmlUrl }));
    assert.equal(run.code, 1);
    assert.match(run.stdout, /FAILED \(notVsphere\)/);
    assert.match(run.stderr, /^error: lab: .* did not answer like a vSphere SOAP endpoint \(HTTP 200, an HTML page\)/m);
  });

  void it('checks every vCenter of a file and prints one line per problem', async () => {
    const caFile = sim.current.caFile;
    assert.ok(caFile);
    const dir = mkdtempSync(join(tmpdir(), 'vscope-check-'));
    const configFile = join(dir, 'vscope.yaml');
    writeFileSync(
      configFile,
      [
        'vcenters:',
        `  - { id: good, url: "${sim.current.url}", username: "${username}", password: "${password}", caFile: "${caFile}" }`,
        `  - { id: html, url: "${htmlUrl}", username: u, password: p }`,
        `  - { id: closed, url: "${closedUrl}", username: u, password: p }`,
      ].join('\n'),
    );
    const run = await vscope(['check', '--config', configFile], {});
    assert.equal(run.code, 1);
    assert.match(run.stdout, /vCenter good .*: OK/);
    const problems = run.stderr.split('\n').filter((line) => line.startsWith('error: '));
    assert.deepEqual(
      problems.map((line) => line.split(':')[1]?.trim()),
      ['html', 'closed'],
    );
  });

  void it('exits 2 with the field on an invalid configuration, 1 with no vCenter', async () => {
    const bad = await vscope(['check'], { VSCOPE_INTERVAL_SEC: '7' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /VSCOPE_INTERVAL_SEC: must be a whole number from 20 to 900/);
    const none = await vscope(['check'], {});
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no vCenter configured/);
  });

  void it('prints the help with one line per command', async () => {
    const run = await vscope(['--help'], {});
    assert.equal(run.code, 0);
    for (const command of ['serve', 'collect', 'check', 'demo']) assert.match(run.stdout, new RegExp(`^  ${command}\\b.+`, 'm'));
    const unknown = await vscope(['frobnicate'], {});
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
});

void describe('formatCheck', () => {
  void it('lists statistics intervals with their period, length and level', () => {
    const interval = (key: number, samplingPeriodSec: number, name: string, lengthSec: number, level: number, enabled = true) => ({ key, samplingPeriodSec, name, lengthSec, level, enabled });
    const { lines, problem } = formatCheck({
      id: 'vc1',
      url: 'https://vc1/sdk',
      problem: null,
      about: { name: 'VMware vCenter Server', fullName: 'VMware vCenter Server 8.0.2 build-1', version: '8.0.2', build: '1', apiVersion: '8.0.2.0', apiType: 'VirtualCenter', instanceUuid: 'u' },
      datacenters: ['Lyon', 'Paris'],
      counts: { clusters: 3, hosts: 12, vms: 340, datastores: 9 },
      intervals: [interval(1, 300, 'Past day', 86_400, 1), interval(2, 1800, 'Past week', 604_800, 2), interval(4, 86_400, 'Past year', 31_536_000, 1, false)],
      warnings: [],
    });
    assert.equal(problem, null);
    assert.deepEqual(lines, [
      'vCenter vc1 (https://vc1/sdk): OK',
      '  product: VMware vCenter Server 8.0.2 build-1 (version 8.0.2)',
      '  API: VirtualCenter 8.0.2.0',
      '  datacenters (2): Lyon, Paris',
      '  clusters: 3, hosts: 12, VMs: 340, datastores: 9',
      '  statistics intervals:',
      '    Past day: every 5 min, kept 1 d, level 1',
      '    Past week: every 30 min, kept 7 d, level 2',
      '    Past year: every 1 d, kept 365 d, level 1 (disabled)',
    ]);
  });
});
