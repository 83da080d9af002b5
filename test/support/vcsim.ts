/**
 * One simulator per test file: `const sim = useVcsim({ vmsPerPool: 3 })` inside a test file
 * starts it before the file's tests and always stops it after them.
 */
import { after, before } from 'node:test';
import { startVcsim, type Vcsim, type VcsimOptions } from '../../src/simulator/vcsim.ts';

export interface VcsimHandle {
  /** The running simulator; throws when read before `before` ran. */
  readonly current: Vcsim;
  /**
   * Resolves once the simulator serves. A root-level `before` hook must await it: node's
   * runner starts root hooks without waiting for the previous one (hooks of a `describe`
   * and tests run after them, and may read `current`).
   */
  readonly ready: Promise<Vcsim>;
}

export function useVcsim(options: VcsimOptions = {}): VcsimHandle {
  let sim: Vcsim | undefined;
  const ready = new Promise<Vcsim>((resolve, reject) => {
    before(async () => {
      const starting = startVcsim(options);
      starting.then(resolve, reject);
      sim = await starting;
    });
  });
  ready.catch(() => undefined);
  after(async () => {
    await sim?.stop();
  });
  return {
    ready,
    get current(): Vcsim {
      if (!sim) throw new Error('the simulator is not running yet (use it inside a test)');
      return sim;
    },
  };
}
