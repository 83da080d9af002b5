/**
 * One simulator per test file: `const sim = useVcsim({ vmsPerPool: 3 })` inside a test file
 * starts it before the file's tests and always stops it after them.
 */
import { after, before } from 'node:test';
import { startVcsim, type Vcsim, type VcsimOptions } from '../../src/simulator/vcsim.ts';

export interface VcsimHandle {
  /** The running simulator; throws when read before `before` ran. */
  readonly current: Vcsim;
}

export function useVcsim(options: VcsimOptions = {}): VcsimHandle {
  let sim: Vcsim | undefined;
  // Read `current` in tests or `describe` hooks: node 20 starts root-level `before` hooks
  // without waiting for this one (see useStack's `ready` for a hook that must wait).
  before(async () => {
    sim = await startVcsim(options);
  });
  after(async () => {
    await sim?.stop();
  });
  return {
    get current(): Vcsim {
      if (!sim) throw new Error('the simulator is not running yet (use it inside a test)');
      return sim;
    },
  };
}
