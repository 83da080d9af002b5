/**
 * Scopes by id, read from the session store once each: they are content-addressed and never
 * change, so a copy is good for as long as it is kept. Bounded; the oldest go first.
 */
import { Scope } from '../shared/visibility.ts';
import type { SessionStore } from '../store/store.ts';

export class ScopeCache {
  private readonly scopes = new Map<string, Scope>();

  constructor(
    private readonly store: Pick<SessionStore, 'scope'>,
    private readonly maxScopes = 1000,
  ) {}

  /** The scope, or null when it is not stored or does not match its id (fail closed). */
  async get(id: string): Promise<Scope | null> {
    const cached = this.scopes.get(id);
    if (cached !== undefined) {
      this.add(cached);
      return cached;
    }
    const stored = await this.store.scope(id);
    if (stored === null) return null;
    let scope: Scope;
    try {
      scope = Scope.fromStored(stored);
    } catch {
      return null;
    }
    this.add(scope);
    return scope;
  }

  /** Keeps a scope known to be stored. */
  add(scope: Scope): void {
    this.scopes.delete(scope.id);
    this.scopes.set(scope.id, scope);
    while (this.scopes.size > this.maxScopes) {
      const oldest = this.scopes.keys().next();
      if (oldest.done === true) break;
      this.scopes.delete(oldest.value);
    }
  }
}
