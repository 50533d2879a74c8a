import type { MyThoughtsSystem } from '../support/system.ts';

/** Where the contract suite sends a request: one implementation of the public API. */
export interface ApiTarget {
  name: string;
  url(path: string): string;
  /** The key pair the system's tokens are signed with (to forge bad tokens in tests). */
  privateKeyPem: string;
  publicKeyPem: string;
}

export type TargetName = 'legacy' | 'services';
export const TARGET_NAMES: readonly TargetName[] = ['legacy', 'services'];

/** The users service owns login and user admin; everything else is the thoughts service's. */
function newServiceFor(system: MyThoughtsSystem, path: string): string {
  return /^\/(api\/login|admin\/users)(\/|\?|$)/.test(path) ? system.usersUrl : system.thoughtsUrl;
}

export function targetOn(name: TargetName, system: MyThoughtsSystem): ApiTarget {
  const base = name === 'legacy' ? () => system.legacyUrl : (path: string) => newServiceFor(system, path);
  return {
    name,
    url: (path) => `${base(path)}${path}`,
    privateKeyPem: system.privateKeyPem,
    publicKeyPem: system.publicKeyPem,
  };
}
