/**
 * How the server checks a login: against vCenter itself (SessionManager.Login), never against
 * a stored password; and what the person may see, asked of vCenter with their own session.
 * Routes only see the `Authenticator` interface.
 */
import { Scope, scopedTypes } from '../shared/visibility.ts';
import { VsphereClient } from '../vsphere/client.ts';
import { InvalidLogin, TransportError } from '../vsphere/errors.ts';
import { invalidCredentials, vcenterUnavailable } from './errors.ts';
import type { ScopeSource } from './sessions.ts';

/** The vSphere session a login opened, held for the vscope session; logged out with it. */
export type VsphereLogin = ScopeSource;

/** The privilege that makes an entity readable (every role but NoAccess holds it). */
const readPrivilege = 'System.Read';

/**
 * What the person behind `client` may see of vCenter `vcenterId`, decided by vCenter: the
 * objects a recursive ContainerView over the root folder shows their session (those they hold
 * System.View on), then AuthorizationManager.HasUserPrivilegeOnEntities for System.Read on
 * them, which tells readable from view-only. An object vCenter says nothing about is view-only.
 */
export async function askScope(client: VsphereClient, vcenterId: string): Promise<Scope> {
  const visible = await client.visibleObjects(Object.keys(scopedTypes));
  const privileges = await client.userPrivileges(visible, client.session.userName, [readPrivilege]);
  const readable = new Set(privileges.filter((entry) => entry.granted.get(readPrivilege) === true).map((entry) => `${entry.entity.type}:${entry.entity.value}`));
  const isReadable = (object: { type: string; value: string }): boolean => readable.has(`${object.type}:${object.value}`);
  return Scope.of(
    vcenterId,
    visible.filter(isReadable),
    visible.filter((object) => !isReadable(object)),
  );
}

export interface Authenticator {
  /**
   * Checks the credentials against vCenter `vcenterId` (SessionManager.Login); resolves with the
   * person's vSphere session, which tells what they may see and logs out later.
   * Rejects with an AppError `invalid_credentials` (401) when vCenter refuses them and
   * `vcenter_unavailable` (503) when vCenter cannot be reached; anything else is unexpected.
   */
  login(vcenterId: string, username: string, password: string): Promise<VsphereLogin>;
  /** ids and names, in config order. */
  vcenters(): readonly { id: string; name: string }[];
}

export interface AuthVcenter {
  readonly id: string;
  /** Shown on the login form; the id when absent. */
  readonly name?: string;
  /** SDK URL, e.g. `https://vcenter.example.com/sdk`. */
  readonly url: string;
  readonly insecure?: boolean;
  readonly caFile?: string;
}

/**
 * The production authenticator: one VsphereClient.connect per login attempt.
 * @param options.connectTimeoutMs how long a login waits for vCenter (client default when absent)
 */
export function vsphereAuthenticator(
  vcenters: readonly AuthVcenter[],
  options: { connectTimeoutMs?: number } = {},
): Authenticator {
  const byId = new Map(vcenters.map((vcenter) => [vcenter.id, vcenter]));
  const list = vcenters.map((vcenter) => ({ id: vcenter.id, name: vcenter.name ?? vcenter.id }));
  return {
    vcenters: () => list,
    async login(vcenterId, username, password) {
      const vcenter = byId.get(vcenterId);
      if (!vcenter) throw new Error(`unknown vCenter id ${vcenterId}`);
      try {
        const client = await VsphereClient.connect({
          url: vcenter.url,
          username,
          password,
          ...(vcenter.insecure === undefined ? {} : { insecure: vcenter.insecure }),
          ...(vcenter.caFile === undefined ? {} : { caFile: vcenter.caFile }),
          ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
          // The person's password is forgotten once vCenter accepted it: no re-login later.
          relogin: false,
        });
        return { scope: () => askScope(client, vcenterId), logout: () => client.logout() };
      } catch (error) {
        if (error instanceof InvalidLogin) throw invalidCredentials();
        if (error instanceof TransportError) {
          throw vcenterUnavailable(`vCenter ${list.find((v) => v.id === vcenterId)?.name ?? vcenterId} cannot be reached: ${error.message}`, error);
        }
        throw error;
      }
    },
  };
}
