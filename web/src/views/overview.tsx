import type { ComponentChildren } from 'preact';
import { useMemo } from 'preact/hooks';
import type { DatastoreRow, HostRow, VmRow } from '../../../src/shared/api.ts';
import {
  connectionHealth,
  connectionLabel,
  fillHealth,
  formatGB,
  formatKBps,
  formatMB,
  formatMhz,
  formatNumber,
  formatPercent,
  loadHealth,
  powerHealth,
  powerLabel,
  toolsNeedAttention,
  toolsRunningHealth,
  toolsRunningLabel,
  toolsVersionHealth,
  toolsVersionLabel,
} from '../../../src/shared/format.ts';
import type { PowerState } from '../../../src/shared/inventory.ts';
import { Badge, Bar, EntityLink, Panel } from '../components/bits.tsx';
import { tableHref } from '../route.ts';
import { cpuTotal, memTotal } from '../totals.ts';
import { FillBar } from './filer.tsx';
import { ReadyCell } from './vms.tsx';

const listSize = 8;

const sum = (values: readonly (number | null)[]): number => values.reduce<number>((total, v) => total + (v ?? 0), 0);
const pct = (used: number, capacity: number): number | null => (capacity > 0 ? (used / capacity) * 100 : null);

function Total({ label, value, detail, children, testId }: { label: string; value: string; detail?: string; children?: ComponentChildren; testId: string }) {
  return (
    <div class="total" data-testid={testId}>
      <div class="total-label">{label}</div>
      <div class="total-value">{value}</div>
      {detail !== undefined && <div class="total-detail">{detail}</div>}
      {children}
    </div>
  );
}

function MoreLink({ href, text }: { href: string; text: string }) {
  return (
    <a class="more" href={href}>
      {text}
    </a>
  );
}

export function OverviewView({ dc, hosts, vms, datastores }: { dc: string; hosts: readonly HostRow[]; vms: readonly VmRow[]; datastores: readonly DatastoreRow[] }) {
  const figures = useMemo(() => {
    const realVms = vms.filter((v) => !v.isTemplate && !v.removed);
    const liveHosts = hosts.filter((h) => !h.removed);
    const liveDatastores = datastores.filter((d) => !d.removed);
    const byPower = new Map<PowerState, number>();
    for (const v of realVms) byPower.set(v.powerState, (byPower.get(v.powerState) ?? 0) + 1);
    const dsUsed = sum(liveDatastores.map((d) => d.usedGB));
    const dsCap = sum(liveDatastores.map((d) => d.capacityGB));
    return {
      hosts: [...liveHosts].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true })),
      connected: liveHosts.filter((h) => h.connectionState === 'connected').length,
      vmsTotal: realVms.length,
      vmsOn: byPower.get('poweredOn') ?? 0,
      byPower: [...byPower.entries()].sort((a, b) => b[1] - a[1]),
      templates: vms.filter((v) => v.isTemplate && !v.removed).length,
      cpu: cpuTotal(liveHosts),
      ram: memTotal(liveHosts),
      dsUsed,
      dsCap,
      topDatastores: [...liveDatastores].sort((a, b) => b.usedPct - a.usedPct).slice(0, listSize),
      ready: realVms
        .filter((v) => v.cpuReadyPctPerVcpu !== null && v.cpuReadyPctPerVcpu >= 5)
        .sort((a, b) => (b.cpuReadyPctPerVcpu ?? 0) - (a.cpuReadyPctPerVcpu ?? 0)),
      snapshots: realVms.filter((v) => v.snapshotCount > 0).sort((a, b) => b.snapshotCount - a.snapshotCount),
      tools: realVms.filter((v) => toolsNeedAttention(v.toolsRunningStatus, v.toolsVersionStatus, v.powerState)),
    };
  }, [hosts, vms, datastores]);

  const { cpu, ram } = figures;
  const dsPct = pct(figures.dsUsed, figures.dsCap);

  return (
    <div class="overview">
      <div class="totals" data-testid="dc-totals">
        <Total label="Hosts" value={formatNumber(figures.hosts.length)} detail={`${figures.connected} connected`} testId="total-hosts" />
        <Total
          label="VMs on / total"
          value={`${figures.vmsOn} / ${figures.vmsTotal}`}
          detail={figures.templates > 0 ? `${figures.templates} template${figures.templates === 1 ? '' : 's'}` : 'powered on / all'}
          testId="total-vms"
        />
        {/* Bars stop at 100 % (Bar clamps); the figure says the true value. */}
        <Total label="CPU" value={formatPercent(cpu.pct)} detail={cpu.pct === null ? `${formatMhz(cpu.capacity)}, no usage reported` : `${formatMhz(cpu.used)} of ${formatMhz(cpu.capacity)}`} testId="total-cpu">
          <Bar pct={cpu.pct} health={loadHealth(cpu.pct)} text="" />
        </Total>
        <Total label="RAM" value={formatPercent(ram.pct)} detail={ram.pct === null ? `${formatMB(ram.capacity)}, no usage reported` : `${formatMB(ram.used)} of ${formatMB(ram.capacity)}`} testId="total-ram">
          <Bar pct={ram.pct} health={loadHealth(ram.pct)} text="" />
        </Total>
        <Total label="Storage" value={formatPercent(dsPct)} detail={`${formatGB(figures.dsUsed)} of ${formatGB(figures.dsCap)}`} testId="total-storage">
          <Bar pct={dsPct} health={fillHealth(dsPct)} text="" />
        </Total>
      </div>

      <Panel title="Hosts" testId="overview-hosts" actions={<MoreLink href={tableHref('hosts', dc)} text="All host details" />}>
        <div class="table-scroll">
          <table class="data compact">
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col" class="num">Cores</th>
                <th scope="col" class="num">VMs</th>
                <th scope="col" class="num">CPU</th>
                <th scope="col" class="num">RAM</th>
                <th scope="col" class="num">Net rx</th>
                <th scope="col" class="num">Net tx</th>
              </tr>
            </thead>
            <tbody>
              {figures.hosts.map((h) => (
                <tr key={h.id} data-id={h.id} class={h.connectionState !== 'connected' ? 'dim' : undefined}>
                  <td>
                    <EntityLink id={h.id} name={h.name} kind="host" />
                    {h.connectionState !== 'connected' && <Badge health={connectionHealth(h.connectionState)}>{connectionLabel(h.connectionState)}</Badge>}
                    {h.inMaintenanceMode && <Badge health="warning">maintenance</Badge>}
                  </td>
                  <td class="num">{h.cpuCores}</td>
                  <td class="num">
                    {h.vmsPoweredOn} / {h.vms}
                  </td>
                  <td class="num wide">
                    <Bar pct={h.cpuUsagePct} health={loadHealth(h.cpuUsagePct)} text={formatPercent(h.cpuUsagePct)} />
                  </td>
                  <td class="num wide">
                    <Bar pct={h.memUsagePct} health={loadHealth(h.memUsagePct)} text={formatPercent(h.memUsagePct)} />
                  </td>
                  <td class="num">{formatKBps(h.netRxKBps)}</td>
                  <td class="num">{formatKBps(h.netTxKBps)}</td>
                </tr>
              ))}
              {figures.hosts.length === 0 && (
                <tr class="empty">
                  <td colSpan={7}>No host of this datacenter that your vSphere account may see.</td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      </Panel>

      <div class="panels">
        <Panel title="Datastores by fill" testId="overview-datastores" actions={<MoreLink href={tableHref('filer', dc, { sort: 'usedPct', dir: 'desc' })} text="Filer" />}>
          <div class="table-scroll">
          <table class="data compact">
            <tbody>
              {figures.topDatastores.map((d) => (
                <tr key={d.id} data-id={d.id}>
                  <td>
                    <EntityLink id={d.id} name={d.name} kind="datastore" />
                  </td>
                  <td class="num wide">
                    <FillBar row={d} />
                  </td>
                  <td class="num">{formatGB(d.freeGB)} free</td>
                </tr>
              ))}
              {figures.topDatastores.length === 0 && (
                <tr class="empty">
                  <td>No datastore that your vSphere account may see.</td>
                </tr>
              )}
            </tbody>
          </table>
          </div>
        </Panel>

        <Panel title="Virtual machines" testId="overview-vms" actions={<MoreLink href={tableHref('vms', dc)} text="All VMs" />}>
          <ul class="power-counts">
            {figures.byPower.map(([state, count]) => (
              <li key={state}>
                <Badge health={powerHealth(state)}>{powerLabel(state)}</Badge> <strong>{count}</strong>
              </li>
            ))}
            {figures.byPower.length === 0 && <li>No VM that your vSphere account may see.</li>}
          </ul>
          <dl class="facts">
            <dt>CPU ready ≥ 5 % per vCPU</dt>
            <dd data-testid="count-ready">{figures.ready.length}</dd>
            <dt>With snapshots</dt>
            <dd data-testid="count-snapshots">{figures.snapshots.length}</dd>
            <dt>Tools not running or outdated</dt>
            <dd data-testid="count-tools">{figures.tools.length}</dd>
          </dl>
        </Panel>

        <Panel
          title="CPU ready warnings"
          testId="overview-ready"
          actions={<MoreLink href={tableHref('vms', dc, { sort: 'cpuReadyPctPerVcpu', dir: 'desc' })} text="Sorted list" />}
        >
          <VmList vms={figures.ready} empty="No VM above 5 % CPU ready per vCPU." render={(v) => <ReadyCell pct={v.cpuReadyPctPerVcpu} />} />
        </Panel>

        <Panel title="VMs with snapshots" testId="overview-snapshots" actions={<MoreLink href={tableHref('vms', dc, { sort: 'snapshotCount', dir: 'desc' })} text="Sorted list" />}>
          <VmList vms={figures.snapshots} empty="No VM has a snapshot." render={(v) => <Badge health="warning">{`${v.snapshotCount} snapshot${v.snapshotCount === 1 ? '' : 's'}`}</Badge>} />
        </Panel>

        <Panel title="VMware Tools to look at" testId="overview-tools" actions={<MoreLink href={tableHref('vms', dc, { sort: 'toolsVersionStatus' })} text="Sorted list" />}>
          <VmList
            vms={figures.tools}
            empty="Tools are running and current on every powered-on VM."
            render={(v) =>
              toolsRunningHealth(v.toolsRunningStatus, v.powerState) === 'warning' ? (
                <Badge health="warning">{toolsRunningLabel(v.toolsRunningStatus)}</Badge>
              ) : (
                <Badge health={toolsVersionHealth(v.toolsVersionStatus)}>{toolsVersionLabel(v.toolsVersionStatus)}</Badge>
              )
            }
          />
        </Panel>
      </div>
    </div>
  );
}

function VmList({ vms, empty, render }: { vms: readonly VmRow[]; empty: string; render: (vm: VmRow) => ComponentChildren }) {
  if (vms.length === 0) return <p class="note">{empty}</p>;
  return (
    <div class="table-scroll">
    <table class="data compact">
      <tbody>
        {vms.slice(0, listSize).map((v) => (
          <tr key={v.id} data-id={v.id}>
            <td>
              <EntityLink id={v.id} name={v.name} kind="vm" />
            </td>
            <td class="num">{render(v)}</td>
          </tr>
        ))}
        {vms.length > listSize && (
          <tr class="more-row">
            <td colSpan={2}>and {vms.length - listSize} more</td>
          </tr>
        )}
      </tbody>
    </table>
    </div>
  );
}
