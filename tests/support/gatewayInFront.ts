import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { startTestGateway, type TestGateway } from '../../gateway/test/helpers/gateway.ts';
import type { MyThoughtsSystem } from './system.ts';

const SHIPPED_ROUTES = path.resolve(import.meta.dirname, '../../routes.yaml');

/** The new services' shares, in percent, for the shipped plan's routes. */
export interface Shares {
  users: number;
  thoughts: number;
}

/** A routes file's text with every split's `users` and `thoughts` shares replaced (comments kept). */
export function planWith(file: string, shares: Shares): string {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const routes = doc.get('routes');
  if (!isSeq(routes)) throw new Error(`${file}: routes is not a list`);
  for (const route of routes.items) {
    const split = isMap(route) ? route.get('split') : null;
    if (!isMap(split)) continue;
    for (const backend of ['users', 'thoughts'] as const) if (split.has(backend)) split.set(backend, shares[backend]);
  }
  return String(doc);
}

/** The real gateway, running the shipped plan at the given shares, in front of the system. */
export function startGatewayInFront(system: MyThoughtsSystem, shares: Shares): Promise<TestGateway> {
  return startTestGateway(planWith(SHIPPED_ROUTES, shares), {
    backendUrls: { legacy: system.legacyUrl, users: system.usersUrl, thoughts: system.thoughtsUrl },
    jwtPublicKeyPem: system.publicKeyPem,
  });
}
