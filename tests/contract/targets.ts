import { startGatewayInFront } from '../support/gatewayInFront.ts';
import type { MyThoughtsSystem } from '../support/system.ts';

/** Where the contract suite sends a request: one implementation of the public API. */
export interface ApiTarget {
  name: string;
  url(path: string): string;
  /** The key pair the system's tokens are signed with (to forge bad tokens in tests). */
  privateKeyPem: string;
  publicKeyPem: string;
  close(): Promise<void>;
}

/**
 * legacy: the monolith alone. services: the users and thoughts services. gateway: the real
 * gateway with the shipped plan at 50 % for both new services, so the suite's requests land
 * on both sides (its `/admin/**` is never public, so internal calls go to the monolith).
 */
export type TargetName = 'legacy' | 'services' | 'gateway';
export const TARGET_NAMES: readonly TargetName[] = ['legacy', 'services', 'gateway'];

const INTERNAL = /^\/admin\//;

/** The users service owns login and user admin; everything else is the thoughts service's. */
function newServiceFor(system: MyThoughtsSystem, path: string): string {
  return /^\/(api\/login|admin\/users)(\/|\?|$)/.test(path) ? system.usersUrl : system.thoughtsUrl;
}

export async function openTarget(name: TargetName, system: MyThoughtsSystem): Promise<ApiTarget> {
  const keys = { privateKeyPem: system.privateKeyPem, publicKeyPem: system.publicKeyPem };
  if (name === 'legacy') return { name, ...keys, url: (path) => `${system.legacyUrl}${path}`, close: async () => {} };
  if (name === 'services') return { name, ...keys, url: (path) => `${newServiceFor(system, path)}${path}`, close: async () => {} };
  const gateway = await startGatewayInFront(system, { users: 50, thoughts: 50 });
  return {
    name,
    ...keys,
    url: (path) => `${INTERNAL.test(path) ? system.legacyUrl : gateway.url}${path}`,
    close: () => gateway.stop(),
  };
}
