/**
 * Every shared-state contract suite, for an implementation of SharedStateStore (store.ts). An
 * implementation's contract test file calls `sharedStateContracts` once with its way to open a
 * fresh store; all implementations must pass the same suites (STYLE.md: one contract suite).
 */
import type { SharedStateStore } from '../store.ts';
import { collectorLeaseStoreContract } from './collector-lease-contract.ts';
import { inventoryStoreContract } from './inventory-contract.ts';
import { loginLimiterStoreContract } from './login-limiter-contract.ts';
import { sampleStateStoreContract } from './sample-state-contract.ts';
import { sessionStoreContract } from './session-contract.ts';
import type { OpenSubject } from './subject.ts';

export { collectorLeaseStoreContract } from './collector-lease-contract.ts';
export { inventoryStoreContract } from './inventory-contract.ts';
export { loginLimiterStoreContract } from './login-limiter-contract.ts';
export { sampleStateStoreContract } from './sample-state-contract.ts';
export { sessionStoreContract } from './session-contract.ts';
export type { ContractSubject, OpenSubject } from './subject.ts';

export function sharedStateContracts(name: string, open: OpenSubject<SharedStateStore>): void {
  inventoryStoreContract(name, open);
  sessionStoreContract(name, open);
  sampleStateStoreContract(name, open);
  loginLimiterStoreContract(name, open);
  collectorLeaseStoreContract(name, open);
}
