/**
 * How the server checks a login: against vCenter itself (SessionManager.Login), never against
 * a stored password. Routes only see the `Authenticator` interface.
 */
import { VsphereClient } from '../vsphere/client.ts';
import { InvalidLogin, TransportError } from '../vsphere/errors.ts';
import { invalidCredentials, vcenterUnavailable } from './errors.ts';

/** A vSphere session opened by a login; logged out with the vscope session. */
export interface VsphereSessionHandle {
  logout(): Promise<void>;
}

export interface Authenticator {
  /**
   * Checks the credentials against vCenter `vcenterId` (SessionManager.Login); resolves with a
   * handle to log the vSphere session out later.
   * Rejects with an AppError `invalid_credentials` (401) when vCenter refuses them and
   * `vcenter_unavailable` (503) when vCenter cannot be reached; anything else is unexpected.
   */
  login(vcenterId: string, username: string, password: string): Promise<VsphereSessionHandle>;
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
        });
        return { logout: () => client.logout() };
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
