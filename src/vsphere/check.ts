/**
 * `vscope check`: connects to one vCenter and reports what it sees, or the one problem that
 * prevents it, classified so that the user knows what to do.
 */
import type { Logger } from 'pino';
import { VsphereClient, type About, type HistoricalInterval } from './client.ts';
import { InvalidLogin, TransportError, VsphereError } from './errors.ts';
import { asString } from './values.ts';

export type CheckProblemReason = 'unreachable' | 'timeout' | 'certificate' | 'notVsphere' | 'credentials' | 'error';

export interface CheckTarget {
  readonly id: string;
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly insecure: boolean;
  readonly caFile: string | null;
}

export interface VcenterCheck {
  readonly id: string;
  /** The SDK URL (never with credentials). */
  readonly url: string;
  /** Null when all went well. */
  readonly problem: { readonly reason: CheckProblemReason; readonly message: string } | null;
  readonly about: About | null;
  /** Datacenter names, sorted. */
  readonly datacenters: readonly string[];
  readonly counts: { readonly clusters: number; readonly hosts: number; readonly vms: number; readonly datastores: number } | null;
  readonly intervals: readonly HistoricalInterval[];
  /** Non-fatal remarks (e.g. an ESXi host rather than a vCenter). */
  readonly warnings: readonly string[];
}

export interface CheckOptions {
  readonly connectTimeoutMs?: number;
  readonly callTimeoutMs?: number;
  readonly log?: Logger;
}

function describeProblem(error: unknown, target: CheckTarget): { reason: CheckProblemReason; message: string } {
  if (error instanceof InvalidLogin) {
    return {
      reason: 'credentials',
      message: `vCenter refused the login of user "${target.username}" (wrong username or password): check the username and password (VSCOPE_VCENTER_USER, VSCOPE_VCENTER_PASSWORD)`,
    };
  }
  if (error instanceof TransportError) return { reason: error.reason, message: error.message };
  if (error instanceof VsphereError) return { reason: 'error', message: error.message };
  return { reason: 'error', message: error instanceof Error ? error.message : String(error) };
}

/** Connects, inventories and logs out. Never throws: failures land in `problem`. */
export async function checkVcenter(target: CheckTarget, options: CheckOptions = {}): Promise<VcenterCheck> {
  const empty = { about: null, datacenters: [], counts: null, intervals: [], warnings: [] };
  let client: VsphereClient;
  try {
    client = await VsphereClient.connect({
      url: target.url,
      username: target.username,
      password: target.password,
      insecure: target.insecure,
      ...(target.caFile !== null ? { caFile: target.caFile } : {}),
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      callTimeoutMs: options.callTimeoutMs ?? 60_000,
      ...(options.log ? { log: options.log } : {}),
    });
  } catch (error) {
    return { id: target.id, url: target.url, problem: describeProblem(error, target), ...empty };
  }
  try {
    const [datacenters, clusters, hosts, vms, datastores, intervals] = await Promise.all([
      client.retrieve('Datacenter', ['name']),
      client.retrieve('ClusterComputeResource', []),
      client.retrieve('HostSystem', []),
      client.retrieve('VirtualMachine', []),
      client.retrieve('Datastore', []),
      client.historicalIntervals(),
    ]);
    const warnings: string[] = [];
    if (client.about.apiType !== 'VirtualCenter') {
      warnings.push(`this is a ${client.about.apiType || 'non-vCenter'} endpoint, not a vCenter: vscope expects a vCenter`);
    }
    const uniqueCount = (objects: readonly { obj: { value: string } }[]): number => new Set(objects.map((o) => o.obj.value)).size;
    return {
      id: target.id,
      url: client.url,
      problem: null,
      about: client.about,
      datacenters: datacenters.map((dc) => asString(dc.props['name']) ?? dc.obj.value).sort(),
      counts: { clusters: uniqueCount(clusters), hosts: uniqueCount(hosts), vms: uniqueCount(vms), datastores: uniqueCount(datastores) },
      intervals,
      warnings,
    };
  } catch (error) {
    return { id: target.id, url: client.url, problem: describeProblem(error, target), ...empty, about: client.about };
  } finally {
    await client.logout();
  }
}

/** Checks every target in turn (sequentially, to keep the output in order). */
export async function checkVcenters(targets: readonly CheckTarget[], options: CheckOptions = {}): Promise<VcenterCheck[]> {
  const results: VcenterCheck[] = [];
  for (const target of targets) results.push(await checkVcenter(target, options));
  return results;
}
