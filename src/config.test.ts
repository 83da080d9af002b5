import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, withVcenters } from './config.ts';
import { createLogger } from './log.ts';

const dir = mkdtempSync(join(tmpdir(), 'vscope-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const secret = 'Sup3r-S3cret-Value';

/** Asserts loadConfig throws a ConfigError whose message matches every pattern and holds no secret. */
async function rejects(options: Parameters<typeof loadConfig>[0], ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(
    () => loadConfig(options),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      for (const pattern of patterns) assert.match(error.message, pattern);
      assert.ok(!error.message.includes(secret), `secret leaked: ${error.message}`);
      return true;
    },
  );
}

void describe('loadConfig', () => {
  void it('has defaults and allows zero vCenters', async () => {
    const config = await loadConfig({ env: {} });
    assert.equal(config.dataDir, './data');
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 8080 });
    assert.equal(config.intervalSec, 120);
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.session, { idleSec: 8 * 3600, maxSec: 24 * 3600, scopeRefreshSec: 600 });
    assert.equal(config.tls, null);
    assert.deepEqual(config.collector, { perfEntitiesPerQuery: 50, perfMetricsPerQuery: 64, perfConcurrency: 4, pageSize: 1000 });
    assert.deepEqual(config.vcenters, []);
    assert.deepEqual(config.warnings, []);
  });

  void it('reads one vCenter from the environment; a bare host name means https://HOST/sdk', async () => {
    const config = await loadConfig({
      env: {
        VSCOPE_VCENTER_URL: 'vc01.example.com',
        VSCOPE_VCENTER_USER: 'svc@vsphere.local',
        VSCOPE_VCENTER_PASSWORD: secret,
        VSCOPE_DATA_DIR: '/var/lib/vscope',
        VSCOPE_LISTEN: '0.0.0.0:8443',
        VSCOPE_INTERVAL_SEC: '60',
        VSCOPE_LOG_LEVEL: 'debug',
        VSCOPE_SESSION_IDLE_SEC: '600',
        VSCOPE_SESSION_MAX_SEC: '3600',
        VSCOPE_SESSION_SCOPE_REFRESH_SEC: '300',
      },
    });
    assert.deepEqual(config.vcenters, [
      { id: 'vc01.example.com', url: 'https://vc01.example.com/sdk', username: 'svc@vsphere.local', password: secret, insecure: false, caFile: null },
    ]);
    assert.equal(config.dataDir, '/var/lib/vscope');
    assert.deepEqual(config.listen, { host: '0.0.0.0', port: 8443 });
    assert.equal(config.intervalSec, 60);
    assert.equal(config.logLevel, 'debug');
    assert.deepEqual(config.session, { idleSec: 600, maxSec: 3600, scopeRefreshSec: 300 });
  });

  void it('reads the password from a file, takes the name, and warns about insecure mode', async () => {
    const passwordFile = file('pw', `${secret}\n`);
    const caFile = file('ca.pem', '-----BEGIN CERTIFICATE-----\n');
    const config = await loadConfig({
      env: {
        VSCOPE_VCENTER_URL: 'http://127.0.0.1:1234/sdk',
        VSCOPE_VCENTER_USER: 'u',
        VSCOPE_VCENTER_PASSWORD_FILE: passwordFile,
        VSCOPE_VCENTER_NAME: 'lab-1',
        VSCOPE_VCENTER_INSECURE: 'true',
        VSCOPE_VCENTER_CA_FILE: caFile,
      },
    });
    assert.deepEqual(config.vcenters, [{ id: 'lab-1', url: 'http://127.0.0.1:1234/sdk', username: 'u', password: secret, insecure: true, caFile }]);
    assert.equal(config.warnings.length, 1);
    assert.match(config.warnings[0] ?? '', /certificate verification is disabled for vCenter lab-1/);
  });

  void it('reads several vCenters and settings from YAML; the environment overrides scalars and a same-id vCenter', async () => {
    const passwordFile = file('lyon.pw', 'lyon-pass');
    const path = file(
      'several.yaml',
      [
        'dataDir: /srv/vscope',
        'listen: "[::1]:9000"',
        'intervalSec: 300',
        'logLevel: warn',
        'session: { idleSec: 100, maxSec: 200, scopeRefreshSec: 900 }',
        'collector: { perfEntitiesPerQuery: 10, perfConcurrency: 2 }',
        'vcenters:',
        '  - id: paris',
        '    url: https://vc-paris.example.com/sdk',
        '    username: a',
        `    password: "${secret}"`,
        '  - id: lyon',
        '    url: vc-lyon.example.com:8443',
        '    username: b',
        `    passwordFile: ${passwordFile}`,
        '    insecure: true',
      ].join('\n'),
    );
    const config = await loadConfig({
      argvConfigPath: path,
      env: { VSCOPE_INTERVAL_SEC: '20', VSCOPE_VCENTER_URL: 'vc-paris-new.example.com', VSCOPE_VCENTER_USER: 'c', VSCOPE_VCENTER_PASSWORD: 'x', VSCOPE_VCENTER_NAME: 'paris' },
    });
    assert.equal(config.dataDir, '/srv/vscope');
    assert.deepEqual(config.listen, { host: '::1', port: 9000 });
    assert.equal(config.intervalSec, 20);
    assert.equal(config.logLevel, 'warn');
    assert.deepEqual(config.session, { idleSec: 100, maxSec: 200, scopeRefreshSec: 900 });
    assert.deepEqual(config.collector, { perfEntitiesPerQuery: 10, perfMetricsPerQuery: 64, perfConcurrency: 2, pageSize: 1000 });
    assert.deepEqual(
      config.vcenters.map((v) => [v.id, v.url, v.username, v.password, v.insecure]),
      [
        ['paris', 'https://vc-paris-new.example.com/sdk', 'c', 'x', false],
        ['lyon', 'https://vc-lyon.example.com:8443/sdk', 'b', 'lyon-pass', true],
      ],
    );
  });

  void it('finds the file through VSCOPE_CONFIG, and --config wins over it', async () => {
    const a = file('a.yaml', 'intervalSec: 30\n');
    const b = file('b.yaml', 'intervalSec: 40\n');
    assert.equal((await loadConfig({ env: { VSCOPE_CONFIG: a } })).intervalSec, 30);
    assert.equal((await loadConfig({ argvConfigPath: b, env: { VSCOPE_CONFIG: a } })).intervalSec, 40);
  });

  void it('accepts vCenters passed programmatically', async () => {
    const base = await loadConfig({ env: {}, vcenters: [{ url: 'http://127.0.0.1:5000/sdk', username: 'u', password: 'p', id: 'demo' }] });
    assert.deepEqual(base.vcenters.map((v) => v.id), ['demo']);
    const more = await withVcenters(base, [{ url: 'vc2', username: 'u', password: 'p' }]);
    assert.deepEqual(more.vcenters.map((v) => [v.id, v.url]), [
      ['demo', 'http://127.0.0.1:5000/sdk'],
      ['vc2', 'https://vc2/sdk'],
    ]);
    await assert.rejects(() => withVcenters(base, [{ url: 'x', username: 'u' }]), /password: required/);
  });

  const vcEnv = { VSCOPE_VCENTER_URL: 'vc', VSCOPE_VCENTER_USER: 'u', VSCOPE_VCENTER_PASSWORD: secret };
  const badCases: { name: string; options: Parameters<typeof loadConfig>[0]; patterns: RegExp[] }[] = [
    { name: 'interval below range (env)', options: { env: { VSCOPE_INTERVAL_SEC: '5' } }, patterns: [/VSCOPE_INTERVAL_SEC/, /20 to 900/] },
    { name: 'interval not a number (env)', options: { env: { VSCOPE_INTERVAL_SEC: 'often' } }, patterns: [/VSCOPE_INTERVAL_SEC/] },
    { name: 'interval above range (file)', options: { argvConfigPath: file('i.yaml', 'intervalSec: 901\n'), env: {} }, patterns: [/intervalSec/, /900/] },
    { name: 'bad log level', options: { env: { VSCOPE_LOG_LEVEL: 'loud' } }, patterns: [/VSCOPE_LOG_LEVEL/, /info/] },
    { name: 'bad listen', options: { env: { VSCOPE_LISTEN: 'localhost:99999' } }, patterns: [/VSCOPE_LISTEN/, /HOST:PORT/] },
    { name: 'bad insecure flag', options: { env: { ...vcEnv, VSCOPE_VCENTER_INSECURE: 'maybe' } }, patterns: [/VSCOPE_VCENTER_INSECURE/, /true or false/] },
    { name: 'URL without user', options: { env: { VSCOPE_VCENTER_URL: 'vc', VSCOPE_VCENTER_PASSWORD: secret } }, patterns: [/VSCOPE_VCENTER_USER/] },
    { name: 'URL without password', options: { env: { VSCOPE_VCENTER_URL: 'vc', VSCOPE_VCENTER_USER: 'u' } }, patterns: [/VSCOPE_VCENTER_PASSWORD/] },
    { name: 'user without URL', options: { env: { VSCOPE_VCENTER_USER: 'u', VSCOPE_VCENTER_PASSWORD: secret } }, patterns: [/VSCOPE_VCENTER_URL/] },
    { name: 'bad vCenter name', options: { env: { ...vcEnv, VSCOPE_VCENTER_NAME: 'a/b' } }, patterns: [/VSCOPE_VCENTER_NAME/, /letters, digits/] },
    { name: 'vCenter name too long (env)', options: { env: { ...vcEnv, VSCOPE_VCENTER_NAME: 'v'.repeat(65) } }, patterns: [/VSCOPE_VCENTER_NAME/, /at most 64/] },
    { name: 'vCenter name too long (file)', options: { argvConfigPath: file('long.yaml', `vcenters:\n  - { id: ${'v'.repeat(65)}, url: vc, username: u, password: p }\n`), env: {} }, patterns: [/vcenters\[0\]\.id/] },
    { name: 'URL with credentials', options: { env: { ...vcEnv, VSCOPE_VCENTER_URL: `https://u:${secret}@vc/sdk` } }, patterns: [/url/, /credentials/] },
    { name: 'URL scheme', options: { env: { ...vcEnv, VSCOPE_VCENTER_URL: 'ftp://vc/sdk' } }, patterns: [/url/, /https/] },
    { name: 'missing password file', options: { env: { VSCOPE_VCENTER_URL: 'vc', VSCOPE_VCENTER_USER: 'u', VSCOPE_VCENTER_PASSWORD_FILE: '/nonexistent/pw' } }, patterns: [/passwordFile/, /ENOENT/] },
    { name: 'missing CA file', options: { env: { ...vcEnv, VSCOPE_VCENTER_CA_FILE: '/nonexistent/ca.pem' } }, patterns: [/caFile/, /does not exist/] },
    { name: 'TLS cert without key', options: { env: { VSCOPE_TLS_CERT_FILE: '/x' } }, patterns: [/VSCOPE_TLS_KEY_FILE/, /both or neither/] },
    { name: 'scope refresh above 15 minutes (env)', options: { env: { VSCOPE_SESSION_SCOPE_REFRESH_SEC: '901' } }, patterns: [/VSCOPE_SESSION_SCOPE_REFRESH_SEC/, /10 to 900/] },
    { name: 'scope refresh above 15 minutes (file)', options: { argvConfigPath: file('sr.yaml', 'session: { scopeRefreshSec: 3600 }\n'), env: {} }, patterns: [/session\.scopeRefreshSec/] },
    { name: 'idle longer than max', options: { env: { VSCOPE_SESSION_IDLE_SEC: '100', VSCOPE_SESSION_MAX_SEC: '10' } }, patterns: [/session\.idleSec/] },
    {
      name: 'vCenter without url (file), password kept out',
      options: { argvConfigPath: file('nourl.yaml', `vcenters:\n  - id: a\n    url: https://a/sdk\n    username: u\n    password: x\n  - username: u\n    password: "${secret}"\n`), env: {} },
      patterns: [/vcenters\[1\]\.url/],
    },
    {
      name: 'password of the wrong type (file) is not echoed',
      options: { argvConfigPath: file('pwtype.yaml', `vcenters:\n  - url: a\n    username: u\n    password: [ "${secret}" ]\n`), env: {} },
      patterns: [/vcenters\[0\]\.password/, /string/],
    },
    {
      name: 'duplicate ids',
      options: { argvConfigPath: file('dup.yaml', 'vcenters:\n  - { id: a, url: x, username: u, password: p }\n  - { id: a, url: y, username: u, password: p }\n'), env: {} },
      patterns: [/vcenters\[1\]\.id/, /unique/],
    },
    {
      name: 'id that is not URL-safe',
      options: { argvConfigPath: file('badid.yaml', 'vcenters:\n  - { id: "a b", url: x, username: u, password: p }\n'), env: {} },
      patterns: [/vcenters\[0\]\.id/, /letters, digits/],
    },
    { name: 'unknown field', options: { argvConfigPath: file('unknown.yaml', 'intervalsec: 60\n'), env: {} }, patterns: [/unknown field/, /intervalsec/] },
    {
      name: 'invalid YAML does not quote the line',
      options: { argvConfigPath: file('broken.yaml', `vcenters:\n  - url: a\n    password: "${secret}\n  bad: [\n`), env: {} },
      patterns: [/invalid YAML/],
    },
    { name: 'missing file', options: { argvConfigPath: '/nonexistent/vscope.yaml', env: {} }, patterns: [/cannot read/, /nonexistent/] },
  ];
  void it('serves /metrics by default, without a token; the token comes from the environment, the file or a token file', async () => {
    assert.deepEqual((await loadConfig({ env: {} })).metrics, { enabled: true, token: null });
    assert.deepEqual((await loadConfig({ env: { VSCOPE_METRICS: 'false' } })).metrics, { enabled: false, token: null });
    assert.equal((await loadConfig({ env: { VSCOPE_METRICS_TOKEN: secret } })).metrics.token, secret);
    const tokenFile = file('metrics.token', `${secret}\n`);
    assert.equal((await loadConfig({ env: { VSCOPE_METRICS_TOKEN_FILE: tokenFile } })).metrics.token, secret);
    const yaml = file('metrics.yaml', `metrics:\n  enabled: false\n  token: ${secret}\n`);
    assert.deepEqual((await loadConfig({ argvConfigPath: yaml, env: {} })).metrics, { enabled: false, token: secret });
  });

  void it('rejects a bad metrics switch or a short token without echoing it', async () => {
    await rejects({ env: { VSCOPE_METRICS: 'yes' } }, /VSCOPE_METRICS: must be true or false/);
    await rejects({ env: { VSCOPE_METRICS_TOKEN: 'short' } }, /VSCOPE_METRICS_TOKEN.*at least 16/);
  });

  for (const { name, options, patterns } of badCases) {
    void it(`rejects ${name} with a ConfigError naming the field`, async () => {
      await rejects(options, ...patterns);
    });
  }
});

void describe('createLogger', () => {
  void it('redacts passwords and cookies wherever they sit', () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    const log = createLogger('info', stream);
    log.info({ password: secret, vcenter: { id: 'a', password: secret }, options: { auth: { password: secret } }, cookie: secret }, 'hello');
    log.info({ config: { vcenters: [{ id: 'a', password: secret }] } }, 'config');
    const text = lines.join('');
    assert.match(text, /hello/);
    assert.match(text, /\[redacted\]/);
    assert.ok(!text.includes(secret), text);
  });
});
