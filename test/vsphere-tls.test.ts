/** Certificate verification against the simulator's self-signed https endpoint. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useVcsim } from './support/vcsim.ts';
import { VsphereClient } from '../src/vsphere/client.ts';
import { TransportError } from '../src/vsphere/errors.ts';

const sim = useVcsim({ tls: true, datacenters: 1, clusters: 1, hostsPerCluster: 1, standaloneHosts: 0, vmsPerPool: 1 });
const credentials = { username: 'any', password: 'any-password' };

void describe('TLS to a self-signed vCenter', () => {
  void it('refuses the untrusted certificate by default, saying what to set', async () => {
    assert.match(sim.current.url, /^https:/);
    await assert.rejects(VsphereClient.connect({ url: sim.current.url, ...credentials }), (error: unknown) => {
      assert.ok(error instanceof TransportError, String(error));
      assert.equal(error.reason, 'certificate');
      assert.match(error.message, /VSCOPE_VCENTER_CA_FILE/);
      assert.match(error.message, /VSCOPE_VCENTER_INSECURE=true/);
      return true;
    });
  });

  void it('connects when told to skip verification', async () => {
    const client = await VsphereClient.connect({ url: sim.current.url, ...credentials, insecure: true });
    assert.equal((await client.retrieve('VirtualMachine', [])).length, 1);
    await client.logout();
  });

  void it('connects when given the simulator CA', async () => {
    const caFile = sim.current.caFile;
    assert.ok(caFile);
    const client = await VsphereClient.connect({ url: sim.current.url, ...credentials, caFile });
    assert.equal((await client.retrieve('HostSystem', [])).length, 1);
    await client.logout();
  });

  void it('reports an unreadable CA file clearly', async () => {
    await assert.rejects(
      VsphereClient.connect({ url: sim.current.url, ...credentials, caFile: '/nonexistent/ca.pem' }),
      (error: unknown) => error instanceof TransportError && error.reason === 'certificate' && /\/nonexistent\/ca\.pem/.test(error.message),
    );
  });

  void it('reports plain http to the https endpoint as not vSphere', async () => {
    const url = sim.current.url.replace(/^https:/, 'http:');
    await assert.rejects(VsphereClient.connect({ url, ...credentials }), (error: unknown) => error instanceof TransportError && error.reason === 'notVsphere');
  });
});
