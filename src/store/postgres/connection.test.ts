import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DatabaseUnavailableError, DatabaseUrlError, isUnavailable, parseDatabaseUrl } from './connection.ts';

void describe('parseDatabaseUrl', () => {
  const cases: readonly { name: string; url: string; password?: string; expect: Partial<ReturnType<typeof parseDatabaseUrl>> }[] = [
    {
      name: 'the plain form, default port, no TLS',
      url: 'postgres://vscope@db.example/vscope',
      expect: { host: 'db.example', port: 5432, user: 'vscope', database: 'vscope', password: undefined, ssl: false, described: 'postgres://vscope@db.example:5432/vscope' },
    },
    {
      name: 'a password given separately wins over one in the URL, and neither shows',
      url: 'postgresql://vscope:in-url@10.1.2.3:6432/vs?sslmode=verify-full',
      password: 'from-file',
      expect: { host: '10.1.2.3', port: 6432, password: 'from-file', ssl: { rejectUnauthorized: true }, described: 'postgres://vscope@10.1.2.3:6432/vs' },
    },
    {
      name: 'a password in the URL, percent-encoded',
      url: 'postgres://vscope:p%40ss%2Fw@db/vscope?sslmode=require',
      expect: { password: 'p@ss/w', ssl: { rejectUnauthorized: false }, described: 'postgres://vscope@db:5432/vscope' },
    },
    {
      name: 'a Unix socket folder and an application name',
      url: 'postgres://vscope@localhost/vscope?host=/var/run/postgresql&application_name=vscope-front-1',
      expect: { host: '/var/run/postgresql', applicationName: 'vscope-front-1', described: 'postgres://vscope@/vscope?host=/var/run/postgresql&port=5432' },
    },
    { name: 'an IPv6 address', url: 'postgres://vscope@[::1]:5433/vscope', expect: { host: '::1', port: 5433, described: 'postgres://vscope@[::1]:5433/vscope' } },
  ];
  for (const { name, url, password, expect } of cases) {
    void it(name, () => {
      const target = parseDatabaseUrl(url, password);
      for (const [key, value] of Object.entries(expect)) assert.deepEqual(target[key as keyof typeof target], value, key);
    });
  }

  const refused: readonly { name: string; url: string; message: RegExp }[] = [
    { name: 'not a URL', url: 'db.example:5432', message: /not a URL|must start with postgres/ },
    { name: 'another scheme', url: 'mysql://vscope@db/vscope', message: /must start with postgres:\/\/ \(got mysql:\/\/\)/ },
    { name: 'no user', url: 'postgres://db/vscope', message: /names no user/ },
    { name: 'no database', url: 'postgres://vscope@db/', message: /names no database/ },
    { name: 'an unknown parameter', url: 'postgres://vscope:secret@db/vscope?sslcert=x', message: /unknown parameter sslcert/ },
    { name: 'a bad sslmode', url: 'postgres://vscope:secret@db/vscope?sslmode=allow', message: /sslmode must be one of/ },
  ];
  for (const { name, url, message } of refused) {
    void it(`refuses ${name}, without the password`, () => {
      assert.throws(() => parseDatabaseUrl(url), (error: unknown) => error instanceof DatabaseUrlError && message.test(error.message) && !error.message.includes('secret'));
    });
  }
});

void describe('isUnavailable', () => {
  void it('tells a lost or refused connection from a refused statement', () => {
    const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });
    assert.equal(isUnavailable(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')), true);
    assert.equal(isUnavailable(withCode('terminating connection due to administrator command', '57P01')), true);
    assert.equal(isUnavailable(withCode('the database system is starting up', '57P03')), true);
    assert.equal(isUnavailable(new Error('Connection terminated unexpectedly')), true);
    assert.equal(isUnavailable(new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')])), true);
    assert.equal(isUnavailable(withCode('duplicate key value violates unique constraint', '23505')), false);
    assert.equal(isUnavailable(withCode('canceling statement due to statement timeout', '57014')), false);
    assert.equal(isUnavailable('a string'), false);
  });

  void it('says what to do, naming the URL it was given', () => {
    const error = new DatabaseUnavailableError('postgres://vscope@db:5432/vscope', Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    assert.equal(error.message, 'PostgreSQL at postgres://vscope@db:5432/vscope is unavailable (connect ECONNREFUSED 10.0.0.1:5432): check that it runs and accepts connections; vscope reconnects by itself.');
    assert.equal(error.code, 'DATABASE_UNAVAILABLE');
  });
});
