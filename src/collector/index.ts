/** Public surface of the collector (what main.ts and the CLI use). */
export {
  backoffDelaySec,
  createCollector,
  runCollectOnce,
  type CollectOnceOptions,
  type Collector,
  type CollectorOptions,
  type CollectorStatus,
  type CollectorTuning,
  type CycleResult,
  type VcenterTarget,
} from './collector.ts';
export { discoverInventory } from './discovery.ts';
export { defaultQueryTuning } from './performance.ts';
export type { CollectorClient, ConnectFn } from './vsphere-api.ts';
export { startCollectorWorker, type CollectorWorkerOptions } from './worker-collector.ts';
