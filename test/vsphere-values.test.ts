/**
 * The transport reads `returnval` straight into values while scanning (xml.ts `valueElements`):
 * on real simulator responses (service content, every inventory type with the collector's
 * property paths, the counter catalogue, realtime and historical QueryPerf), those values must
 * equal what reading the whole element tree gives, and a response cut anywhere is refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { useVcsim } from './support/vcsim.ts';
import { datastorePaths, hostPaths, vmPaths } from '../src/collector/discovery.ts';
import { VsphereClient } from '../src/vsphere/client.ts';
import { asArray, asMoRef, asRecord, dateTimeXml, moRefXml, textXml, type MoRef } from '../src/vsphere/values.ts';
import { childrenNamed, elementValue, envelope, parseXml, type XmlElement } from '../src/vsphere/xml.ts';

const sim = useVcsim({ datacenters: 1, clusters: 2, hostsPerCluster: 2, standaloneHosts: 1, pools: 1, vmsPerPool: 4, datastores: 2 });

/** Raw SOAP over HTTP with its own session, so that the response text itself is at hand. */
function rawSession(url: string): (method: string, inner: string) => Promise<string> {
  let cookie = '';
  const post = async (method: string, inner: string): Promise<string> => {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'urn:vim25/6.5', ...(cookie ? { cookie } : {}) },
      body: envelope(method, inner),
    });
    const setCookie = response.headers['set-cookie'];
    const line = Array.isArray(setCookie) ? setCookie[0] : setCookie;
    const match = line ? /^(vmware_soap_session=[^;]*)/.exec(line) : null;
    if (match?.[1]) cookie = match[1];
    return response.body.text();
  };
  return post;
}

function returnvals(root: XmlElement): XmlElement[] {
  const response = root.children[0]?.children[0];
  assert.ok(response, 'a SOAP body with a response');
  assert.ok(!response.name.endsWith('Fault'), `a response, not ${response.name}`);
  return childrenNamed(response, 'returnval');
}

/** Asserts both readings agree and returns the values. */
function compare(text: string, what: string): unknown[] {
  const tree = returnvals(parseXml(text)).map(elementValue);
  const direct = returnvals(parseXml(text, { valueElements: new Set(['returnval']) }));
  assert.ok(direct.every((el) => el.children.length === 0 && 'value' in el), `${what}: returnval read as values`);
  assert.deepEqual(direct.map(elementValue), tree, what);
  assert.ok(tree.length > 0, `${what}: something to compare`);
  return tree;
}

void describe('returnval values read while scanning, against the simulator', () => {
  void it('equal the element tree for every call the collector makes, and refuse truncated responses', async () => {
    const url = sim.current.url;
    const client = await VsphereClient.connect({ url, username: 'u', password: 'p' });
    const post = rawSession(url);
    try {
      const sc = client.serviceContent;
      compare(await post('RetrieveServiceContent', moRefXml('_this', { type: 'ServiceInstance', value: 'ServiceInstance' })), 'service content');
      await post('Login', moRefXml('_this', sc.sessionManager) + textXml('userName', 'u') + textXml('password', 'p'));
      const retrieve = async (type: string, paths: readonly string[]): Promise<{ text: string; refs: MoRef[] }> => {
        const view = asMoRef(
          compare(
            await post('CreateContainerView', moRefXml('_this', sc.viewManager) + moRefXml('container', sc.rootFolder) + textXml('type', type) + textXml('recursive', true)),
            'view',
          )[0],
        );
        assert.ok(view);
        const spec =
          `<specSet><propSet>${textXml('type', type)}${paths.map((p) => textXml('pathSet', p)).join('')}</propSet>` +
          `<objectSet>${moRefXml('obj', view)}${textXml('skip', true)}<selectSet xsi:type="TraversalSpec">${textXml('name', 'view')}` +
          `${textXml('type', 'ContainerView')}${textXml('path', 'view')}${textXml('skip', false)}</selectSet></objectSet></specSet>`;
        const text = await post('RetrievePropertiesEx', moRefXml('_this', sc.propertyCollector) + spec + '<options></options>');
        const [result] = compare(text, `${type} properties`);
        const refs = asArray(asRecord(result)?.['objects']).flatMap((o) => asMoRef(asRecord(o)?.['obj']) ?? []);
        return { text, refs };
      };
      const vms = await retrieve('VirtualMachine', vmPaths);
      const hosts = await retrieve('HostSystem', hostPaths);
      await retrieve('Datastore', datastorePaths);
      await retrieve('ClusterComputeResource', ['name', 'parent']);
      compare(
        await post('RetrievePropertiesEx', moRefXml('_this', sc.propertyCollector) + `<specSet><propSet><type>PerformanceManager</type><pathSet>perfCounter</pathSet></propSet><objectSet>${moRefXml('obj', sc.perfManager)}</objectSet></specSet><options></options>`),
        'counters',
      );
      const counters = [...(await client.perfCounters()).values()].slice(0, 40);
      const nowSec = Math.floor(Date.now() / 1000);
      const specs = (refs: readonly MoRef[], intervalSec: number, startSec: number, maxSample: number): string =>
        refs
          .map(
            (ref) =>
              `<querySpec>${moRefXml('entity', ref)}${dateTimeXml('startTime', startSec)}${dateTimeXml('endTime', nowSec)}${textXml('maxSample', maxSample)}` +
              counters.map((c) => `<metricId>${textXml('counterId', c.id)}${textXml('instance', '')}</metricId>`).join('') +
              `${textXml('intervalId', intervalSec)}</querySpec>`,
          )
          .join('');
      const realtime = await post('QueryPerf', moRefXml('_this', sc.perfManager) + specs([...vms.refs, ...hosts.refs], 20, nowSec - 3600, 180));
      compare(await post('QueryPerf', moRefXml('_this', sc.perfManager) + specs(vms.refs.slice(0, 3), 86400, nowSec - 365 * 86400, 365)), 'a year of daily samples');

      const [firstEntity] = compare(realtime, 'realtime QueryPerf');
      const samples = asArray(asRecord(firstEntity)?.['sampleInfo']);
      assert.ok(samples.length > 100, `an hour of realtime samples (${String(samples.length)})`);
      // Cut anywhere (200 places, at odd offsets), value reading refuses the page.
      for (const page of [vms.text, realtime]) {
        for (let cut = 1; cut < page.length; cut += Math.ceil(page.length / 200) | 1) {
          const prefix = page.slice(0, cut);
          assert.throws(() => parseXml(prefix, { valueElements: new Set(['returnval']) }), Error, `cut at ${String(cut)}`);
        }
      }
    } finally {
      await client.logout();
    }
  });
});
