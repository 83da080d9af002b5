import assert from 'node:assert/strict';
import type { InventoryStore } from '../store.ts';

/**
 * What a contract suite is given: a way to open a fresh, empty store of one implementation,
 * plus a second connection to the same data, as another vscope process would hold it.
 */

export interface ContractSubject<S> {
  /** A store on empty data, its schema migrated. */
  readonly store: S;
  /** Another store on the same data, with its own connection(s): another process's view. Closed by `close`. */
  readonly other: () => Promise<S>;
  /** Closes the store, every `other`, and removes the data. */
  readonly close: () => Promise<void>;
}

/** Opens a fresh subject; called once per test. */
export type OpenSubject<S> = () => Promise<ContractSubject<S>>;

/** Runs `test` on a fresh subject and always closes it. */
export async function withSubject<S>(open: OpenSubject<S>, test: (subject: ContractSubject<S>) => Promise<void>): Promise<void> {
  const subject = await open();
  try {
    await test(subject);
  } finally {
    await subject.close();
  }
}

/**
 * Resolves in the next turn of the event loop: another connection's commit shows in a store's
 * answers from then on at the latest (SQLite reads its data version once per turn; a request
 * arrives in a turn of its own).
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The store's dataVersion; fails the test when the store offers none (every shared-state store must). */
export async function versionOf(store: InventoryStore): Promise<number> {
  const version = await store.dataVersion?.();
  assert.ok(typeof version === 'number', 'the store offers dataVersion');
  return version;
}
