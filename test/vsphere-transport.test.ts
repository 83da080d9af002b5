/**
 * The vSphere client against hand-written SOAP responses served by a local node:http server:
 * things vcsim cannot show (paging, faults, garbage, hanging servers, value shapes).
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { VsphereClient } from '../src/vsphere/client.ts';
import { InvalidArgument, NotAuthenticated, SoapFault, TransportError } from '../src/vsphere/errors.ts';
import { child, parseXml } from '../src/vsphere/xml.ts';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

function soap(inner: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
    `xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${XSI}"><soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`
  );
}

function response(method: string, inner: string): string {
  return soap(`<${method}Response xmlns="urn:vim25">${inner}</${method}Response>`);
}

function fault(type: string, message: string): string {
  return soap(
    `<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>${message}</faultstring><detail><${type}Fault xmlns="urn:vim25" xsi:type="${type}"></${type}Fault></detail></soapenv:Fault>`,
  );
}

const serviceContent = response(
  'RetrieveServiceContent',
  '<returnval><rootFolder type="Folder">group-d1</rootFolder><propertyCollector type="PropertyCollector">pc</propertyCollector>' +
    '<viewManager type="ViewManager">vm</viewManager><about><name>VMware vCenter Server</name><fullName>VMware vCenter Server 8.0.2 build-1</fullName>' +
    '<version>8.0.2</version><build>1</build><apiType>VirtualCenter</apiType><apiVersion>8.0.2.0</apiVersion><instanceUuid>u-1</instanceUuid></about>' +
    '<sessionManager type="SessionManager">SessionManager</sessionManager><perfManager type="PerformanceManager">PerfMgr</perfManager></returnval>',
);

interface Seen {
  readonly method: string;
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
}
/** `splitAt`: the body's bytes are sent in two writes, split at these byte offsets (for answers that arrive in pieces). */
type Reply = { status?: number; body: string; contentType?: string; headers?: Record<string, string>; splitAt?: readonly number[] };

/** A local SOAP server: `handle` answers each call; service content and login are built in. */
async function fakeVcenter(handle: (method: string, body: string, seen: readonly Seen[]) => Reply | undefined): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  let sessions = 0;
  const server = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const method = /<soapenv:Body><(\w+)/.exec(body)?.[1] ?? '';
      seen.push({ method, body, headers: req.headers });
      let reply = handle(method, body, seen);
      if (!reply && method === 'RetrieveServiceContent') reply = { body: serviceContent };
      if (!reply && method === 'Login') {
        sessions++;
        reply = {
          body: response('Login', '<returnval><key>k</key><userName>u</userName></returnval>'),
          headers: { 'set-cookie': `vmware_soap_session="s${String(sessions)}"; Path=/; HttpOnly; Secure;` },
        };
      }
      if (!reply && (method === 'Logout' || method === 'DestroyView')) reply = { body: response(method, '') };
      if (!reply && method === 'CreateContainerView') reply = { body: response(method, '<returnval type="ContainerView">session[1]view-1</returnval>') };
      reply ??= { status: 500, body: fault('MethodNotFound', `unexpected ${method}`) };
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'text/xml; charset=utf-8', ...reply.headers });
      const bytes = Buffer.from(reply.body, 'utf8');
      const cuts = [0, ...(reply.splitAt ?? []), bytes.length];
      const writePart = (i: number): void => {
        if (i === cuts.length - 2) {
          res.end(bytes.subarray(cuts[i], cuts[i + 1]));
          return;
        }
        // A pause between writes, so that each part arrives in a socket read of its own.
        res.write(bytes.subarray(cuts[i], cuts[i + 1]), () => setTimeout(() => writePart(i + 1), 20));
      };
      writePart(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}/sdk`,
    seen,
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

const credentials = { username: 'u', password: 'pa<ss>&"word\'' };

function objects(range: number[]): string {
  return range
    .map(
      (i) =>
        `<objects><obj type="VirtualMachine">vm-${String(i)}</obj><propSet><name>name</name><val xmlns:XMLSchema-instance="${XSI}" XMLSchema-instance:type="xsd:string">${String(100 + i)}</val></propSet>` +
        `<propSet><name>config.hardware.numCPU</name><val xsi:type="xsd:int">${String(i)}</val></propSet>` +
        `<propSet><name>datastore</name><val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="Datastore" xsi:type="ManagedObjectReference">ds-${String(i)}</ManagedObjectReference></val></propSet>` +
        `<missingSet><path>summary</path><fault><fault xsi:type="NoPermission"><privilegeId>System.Read</privilegeId></fault></fault></missingSet></objects>`,
    )
    .join('');
}

void describe('SOAP transport on hand-written responses', () => {
  const servers: { close: () => Promise<void> }[] = [];
  after(async () => {
    for (const server of servers) await server.close();
  });

  void it('reads an answer that arrives in pieces, a character split between two of them', async () => {
    const name = 'café € 𝄞';
    const body = response('RetrievePropertiesEx', `<returnval><objects><obj type="VirtualMachine">vm-1</obj><propSet><name>name</name><val xsi:type="xsd:string">${name}</val></propSet></objects></returnval>`);
    const bytes = Buffer.from(body, 'utf8');
    const euro = bytes.indexOf(Buffer.from('€', 'utf8'));
    const clef = bytes.indexOf(Buffer.from('𝄞', 'utf8'));
    const server = await fakeVcenter((method) => (method === 'RetrievePropertiesEx' ? { body, splitAt: [euro + 1, euro + 2, clef + 3] } : undefined));
    servers.push(server);
    const client = await VsphereClient.connect({ url: server.url, ...credentials });
    const vms = await client.retrieve('VirtualMachine', ['name']);
    await client.logout();
    assert.equal(vms[0]?.props['name'], name);
  });

  void it('reads a long answer then a short one into the buffers it reuses, nothing of the first left in the second', async () => {
    let calls = 0;
    const long = Array.from({ length: 3000 }, (_, i) => i + 1);
    const server = await fakeVcenter((method) => {
      if (method !== 'RetrievePropertiesEx') return undefined;
      calls++;
      const body = response(method, `<returnval>${objects(calls === 1 ? long : [7])}</returnval>`);
      return { body, splitAt: [100_000, 700_000] };
    });
    servers.push(server);
    const client = await VsphereClient.connect({ url: server.url, ...credentials });
    const first = await client.retrieve('VirtualMachine', ['name', 'config.hardware.numCPU', 'datastore', 'summary']);
    const second = await client.retrieve('VirtualMachine', ['name', 'config.hardware.numCPU', 'datastore', 'summary']);
    await client.logout();
    assert.equal(first.length, 3000);
    assert.deepEqual(first.at(-1)?.props, { name: '3100', 'config.hardware.numCPU': 3000, datastore: [{ type: 'Datastore', value: 'ds-3000' }] });
    assert.deepEqual(
      second.map((vm) => vm.obj.value),
      ['vm-7'],
    );
  });

  void it('pages through ContinueRetrievePropertiesEx, sends the cookie and destroys the view', async () => {
    const server = await fakeVcenter((method, body) => {
      if (method === 'RetrievePropertiesEx') return { body: response(method, `<returnval><token>t1</token>${objects([1, 2])}</returnval>`) };
      if (method === 'ContinueRetrievePropertiesEx' && body.includes('<token>t1</token>')) {
        return { body: response(method, `<returnval>${objects([3, 4])}<token>t2</token></returnval>`) };
      }
      if (method === 'ContinueRetrievePropertiesEx' && body.includes('<token>t2</token>')) {
        return { body: response(method, `<returnval>${objects([5])}</returnval>`) };
      }
      return undefined;
    });
    servers.push(server);
    const client = await VsphereClient.connect({ url: server.url, ...credentials, pageSize: 2 });
    assert.equal(client.about.apiVersion, '8.0.2.0');
    const vms = await client.retrieve('VirtualMachine', ['name', 'config.hardware.numCPU', 'datastore', 'summary']);
    await client.logout();
    assert.deepEqual(
      vms.map((vm) => vm.obj.value),
      ['vm-1', 'vm-2', 'vm-3', 'vm-4', 'vm-5'],
    );
    assert.deepEqual(vms[4], {
      obj: { type: 'VirtualMachine', value: 'vm-5' },
      props: { name: '105', 'config.hardware.numCPU': 5, datastore: [{ type: 'Datastore', value: 'ds-5' }] },
      missing: ['summary'],
    });
    const methods = server.seen.map((s) => s.method);
    assert.deepEqual(methods, [
      'RetrieveServiceContent',
      'Login',
      'CreateContainerView',
      'RetrievePropertiesEx',
      'ContinueRetrievePropertiesEx',
      'ContinueRetrievePropertiesEx',
      'DestroyView',
      'Logout',
    ]);
    const retrieve = server.seen.find((s) => s.method === 'RetrievePropertiesEx');
    assert.match(retrieve?.body ?? '', /<maxObjects>2<\/maxObjects>/);
    assert.equal(retrieve?.headers.cookie, 'vmware_soap_session="s1"');
    assert.equal(retrieve?.headers.soapaction, 'urn:vim25/8.0.2.0');
  });

  void it('escapes every value it sends, the password included', async () => {
    const server = await fakeVcenter((method) =>
      method === 'RetrievePropertiesEx' ? { body: response(method, '<returnval></returnval>') } : undefined,
    );
    servers.push(server);
    const client = await VsphereClient.connect({ url: server.url, ...credentials });
    assert.deepEqual(await client.retrieve(`Odd<&>"'Type`, [`path<&>`]), []);
    await client.logout();
    const login = server.seen.find((s) => s.method === 'Login');
    assert.ok(login);
    const loginBody = child(parseXml(login.body), 'Body')?.children[0];
    assert.equal(loginBody && child(loginBody, 'password')?.text, credentials.password);
    const retrieve = server.seen.find((s) => s.method === 'RetrievePropertiesEx');
    assert.ok(retrieve);
    assert.match(retrieve.body, /<type>Odd&lt;&amp;&gt;&quot;&apos;Type<\/type>/);
    assert.match(retrieve.body, /<pathSet>path&lt;&amp;&gt;<\/pathSet>/);
  });

  void it('logs in again once on a NotAuthenticated fault and retries the call', async () => {
    let failures = 1;
    const server = await fakeVcenter((method) => {
      if (method === 'RetrievePropertiesEx') {
        if (failures-- > 0) return { status: 500, body: fault('NotAuthenticated', '') };
        return { body: response(method, `<returnval>${objects([7])}</returnval>`) };
      }
      return undefined;
    });
    servers.push(server);
    const client = await VsphereClient.connect({ url: server.url, ...credentials });
    const vms = await client.retrieve('VirtualMachine', ['name']);
    assert.equal(vms.length, 1);
    assert.equal(server.seen.filter((s) => s.method === 'Login').length, 2);
    assert.equal(server.seen.at(-1)?.headers.cookie, 'vmware_soap_session="s2"');
    await client.logout();
  });

  void it('gives up with NotAuthenticated when the new session is refused too', async () => {
    const server = await fakeVcenter((method) =>
      method === 'RetrievePropertiesEx' ? { status: 500, body: fault('NotAuthenticated', 'session gone') } : undefined,
    );
    servers.push(server);
    const client = await VsphereClient.connect({ url: server.url, ...credentials });
    await assert.rejects(client.retrieve('VirtualMachine', ['name']), NotAuthenticated);
    assert.equal(server.seen.filter((s) => s.method === 'Login').length, 2);
    await client.logout();
  });

  void it('maps SOAP faults to typed errors', async () => {
    const server = await fakeVcenter((method, body) => {
      if (method === 'Rename_Task') return { status: 500, body: fault('ManagedObjectNotFound', 'The object has already been deleted') };
      if (method === 'PowerOnVM_Task') return { status: 500, body: fault('InvalidPowerState', 'already on') };
      if (method === 'QueryPerf' && body.includes('vm-9')) return { status: 500, body: soap('<soapenv:Fault><faultcode>x</faultcode><faultstring>odd</faultstring></soapenv:Fault>') };
      return undefined;
    });
    servers.push(server);
    const client = await VsphereClient.connect({ url: server.url, ...credentials });
    const vm = { type: 'VirtualMachine', value: 'vm-1' };
    await assert.rejects(client.call('Rename_Task', vm, '<newName>x</newName>'), (error: unknown) => {
      assert.ok(error instanceof InvalidArgument);
      assert.equal(error.faultType, 'ManagedObjectNotFound');
      assert.match(error.message, /already been deleted/);
      return true;
    });
    await assert.rejects(client.call('PowerOnVM_Task', vm), (error: unknown) => {
      assert.ok(error instanceof SoapFault);
      assert.equal(error.faultType, 'InvalidPowerState');
      assert.equal(error.code, 'SOAP_FAULT');
      return true;
    });
    await assert.rejects(
      client.queryPerf([{ entity: { type: 'VirtualMachine', value: 'vm-9' }, metricIds: [], intervalSec: 20 }]),
      (error: unknown) => error instanceof SoapFault && error.faultType === 'SoapFault' && /odd/.test(error.message),
    );
    await client.logout();
  });

  void it('sorts QueryPerf samples ascending and reorders the values alike', async () => {
    const server = await fakeVcenter((method) => {
      if (method !== 'QueryPerf') return undefined;
      const sample = (ts: string): string => `<sampleInfo><timestamp>${ts}</timestamp><interval>20</interval></sampleInfo>`;
      return {
        body: response(
          method,
          `<returnval xsi:type="PerfEntityMetric"><entity type="HostSystem">host-1</entity>${sample('2026-01-01T00:01:00Z')}${sample('2026-01-01T00:00:40Z')}${sample('2026-01-01T00:00:20Z')}` +
            `<value xsi:type="PerfMetricIntSeries"><id><counterId>462</counterId><instance>vmnic0</instance></id><value>30</value><value>20</value><value>10</value></value>` +
            `<value xsi:type="PerfMetricIntSeries"><id><counterId>2</counterId><instance></instance></id><value>3</value><value>2</value><value>1</value></value></returnval>` +
            `<returnval xsi:type="PerfEntityMetric"><entity type="VirtualMachine">vm-1</entity>${sample('2026-01-01T00:00:20Z')}` +
            `<value xsi:type="PerfMetricIntSeries"><id><counterId>2</counterId><instance></instance></id><value>-1</value></value></returnval>`,
        ),
      };
    });
    servers.push(server);
    const client = await VsphereClient.connect({ url: server.url, ...credentials });
    const results = await client.queryPerf([
      { entity: { type: 'HostSystem', value: 'host-1' }, metricIds: [{ counterId: 462, instance: 'vmnic0' }], intervalSec: 20, startSec: 1_767_225_600, maxSample: 3 },
    ]);
    await client.logout();
    const t0 = Date.parse('2026-01-01T00:00:20Z') / 1000;
    assert.deepEqual(results, [
      {
        entity: { type: 'HostSystem', value: 'host-1' },
        samples: [
          { tsSec: t0, intervalSec: 20 },
          { tsSec: t0 + 20, intervalSec: 20 },
          { tsSec: t0 + 40, intervalSec: 20 },
        ],
        series: [
          { counterId: 462, instance: 'vmnic0', values: [10, 20, 30] },
          { counterId: 2, instance: '', values: [1, 2, 3] },
        ],
      },
      {
        entity: { type: 'VirtualMachine', value: 'vm-1' },
        samples: [{ tsSec: t0, intervalSec: 20 }],
        series: [{ counterId: 2, instance: '', values: [-1] }],
      },
    ]);
    const query = server.seen.find((s) => s.method === 'QueryPerf');
    assert.match(query?.body ?? '', /<startTime>2026-01-01T00:00:00Z<\/startTime><maxSample>3<\/maxSample><metricId><counterId>462<\/counterId><instance>vmnic0<\/instance><\/metricId><intervalId>20<\/intervalId>/);
  });

  void it('reads a QueryPerf answer the fast reader does not know (here a comment) the generic way, to the same values', async () => {
    const entity = (comment: string): string =>
      `<returnval xsi:type="PerfEntityMetric">${comment}<entity type="VirtualMachine">vm-1</entity>` +
      '<sampleInfo><timestamp>2026-01-01T00:00:40Z</timestamp><interval>20</interval></sampleInfo><sampleInfo><timestamp>2026-01-01T00:00:20Z</timestamp><interval>20</interval></sampleInfo>' +
      '<value xsi:type="PerfMetricIntSeries"><id><counterId>2</counterId><instance></instance></id><value>2</value><value>1</value></value></returnval>';
    const read = async (comment: string): Promise<unknown> => {
      const server = await fakeVcenter((method) => (method === 'QueryPerf' ? { body: response(method, entity(comment)) } : undefined));
      servers.push(server);
      const client = await VsphereClient.connect({ url: server.url, ...credentials });
      try {
        return await client.queryPerf([{ entity: { type: 'VirtualMachine', value: 'vm-1' }, metricIds: [{ counterId: 2, instance: '' }], intervalSec: 20 }]);
      } finally {
        await client.logout();
      }
    };
    const plain = await read('');
    const t0 = Date.parse('2026-01-01T00:00:20Z') / 1000;
    assert.deepEqual(plain, [
      {
        entity: { type: 'VirtualMachine', value: 'vm-1' },
        samples: [
          { tsSec: t0, intervalSec: 20 },
          { tsSec: t0 + 20, intervalSec: 20 },
        ],
        series: [{ counterId: 2, instance: '', values: [1, 2] }],
      },
    ]);
    assert.deepEqual(await read('<!-- generic -->'), plain);
  });

  const notVsphereCases: { name: string; reply: Reply }[] = [
    { name: 'an HTML page', reply: { body: '<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>', contentType: 'text/html' } },
    { name: 'an HTML 404', reply: { status: 404, body: '<html><body>Not Found</body></html>', contentType: 'text/html' } },
    { name: 'garbage bytes', reply: { body: '\u0000\u0001garbage{{{', contentType: 'application/octet-stream' } },
    { name: 'JSON', reply: { body: '{"value":"hello"}', contentType: 'application/json' } },
    { name: 'truncated SOAP', reply: { body: serviceContent.slice(0, serviceContent.length - 60) } },
    { name: 'XML that is not SOAP', reply: { body: '<?xml version="1.0"?><feed><entry/></feed>' } },
    { name: 'an empty body', reply: { body: '' } },
  ];
  for (const { name, reply } of notVsphereCases) {
    void it(`reports ${name} as not a vSphere endpoint`, async () => {
      const server = await fakeVcenter(() => reply);
      servers.push(server);
      await assert.rejects(VsphereClient.connect({ url: server.url, ...credentials }), (error: unknown) => {
        assert.ok(error instanceof TransportError, String(error));
        assert.equal(error.reason, 'notVsphere');
        assert.match(error.message, /\/sdk/);
        return true;
      });
    });
  }

  void it('reports a redirect with where it leads', async () => {
    const server = await fakeVcenter(() => ({ status: 301, body: '', headers: { location: 'https://vc.example.com/sdk' } }));
    servers.push(server);
    await assert.rejects(VsphereClient.connect({ url: server.url, ...credentials }), (error: unknown) => {
      assert.ok(error instanceof TransportError);
      assert.equal(error.reason, 'notVsphere');
      assert.match(error.message, /redirects \(HTTP 301\) to https:\/\/vc\.example\.com\/sdk/);
      return true;
    });
  });

  void it('reports a closed port as unreachable', async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await assert.rejects(VsphereClient.connect({ url: `http://127.0.0.1:${String(port)}/sdk`, ...credentials }), (error: unknown) => {
      assert.ok(error instanceof TransportError);
      assert.equal(error.reason, 'unreachable');
      assert.match(error.message, /ECONNREFUSED/);
      assert.ok(!error.message.includes(credentials.password));
      return true;
    });
  });

  void it('times out on a server that accepts and never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createNetServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      await assert.rejects(
        VsphereClient.connect({ url: `http://127.0.0.1:${String(port)}/sdk`, ...credentials, connectTimeoutMs: 1000, callTimeoutMs: 500 }),
        (error: unknown) => {
          assert.ok(error instanceof TransportError, String(error));
          assert.equal(error.reason, 'timeout');
          assert.match(error.message, /did not answer .* within 500 ms/);
          return true;
        },
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  void it('rejects a URL that is not http(s)', async () => {
    await assert.rejects(VsphereClient.connect({ url: 'ftp://127.0.0.1/sdk', ...credentials }), TransportError);
  });
});
