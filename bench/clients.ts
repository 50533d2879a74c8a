import { createHash, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTokenSigner } from '@mythoughts/runtime/tokens';
import { CohortCookies } from '../gateway/src/decide/cohortCookie.ts';

/**
 * The simulated clients: 1 000 of them, each with its own cohort identity, so a 90/10 split
 * sends ~10 % of the requests to the new backend, as real traffic would. A profile is a file
 * of one header line per client (read by bench/load.lua) plus one header for the fixed-rate
 * runs (hey sends the same headers on every request: one returning client).
 */
const CLIENTS = 1_000;

/** The gw_cohort secret of every gateway the bench starts, so its clients' cookies verify as the gateway's own. */
export const BENCH_COHORT_SECRET = 'bench-cohort-secret-0123456789abcdef';

export type ClientKind = 'cookies' | 'jwt';

export interface ClientProfile {
  readonly kind: ClientKind;
  readonly headersFile: string;
  readonly fixedRateHeader: string;
  readonly headers: readonly string[];
}

export interface JwtKeys {
  readonly publicKeyFile: string;
  readonly privateKeyPem: string;
}

/** An RSA pair made for this run only; the gateway gets the public key as JWT_PUBLIC_KEY_FILE. */
export function makeJwtKeys(dir: string): JwtKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const publicKeyFile = path.join(dir, 'jwt-public.pem');
  writeFileSync(publicKeyFile, publicKey);
  return { publicKeyFile, privateKeyPem: privateKey };
}

export function makeClients(dir: string, kind: ClientKind, keys: JwtKeys): ClientProfile {
  const headers: string[] = [];
  if (kind === 'cookies') {
    const cookies = new CohortCookies(BENCH_COHORT_SECRET);
    for (let i = 0; i < CLIENTS; i++) {
      // Stable ids, so every run and every target sees the same clients; signed, as the gateway
      // issues them (an unsigned one would be replaced by a new cookie on every request).
      const id = createHash('sha256').update(`bench-client-${i}`).digest('base64url').slice(0, 16);
      headers.push(`Cookie: gw_cohort=${cookies.valueFor(id)}`);
    }
  } else {
    const signer = createTokenSigner(keys.privateKeyPem);
    for (let i = 0; i < CLIENTS; i++) headers.push(`Authorization: Bearer ${signer.sign(`bench${String(i).padStart(4, '0')}`)}`);
  }
  const headersFile = path.join(dir, `clients-${kind}.txt`);
  writeFileSync(headersFile, headers.join('\n') + '\n');
  return { kind, headersFile, fixedRateHeader: headers[0]!, headers };
}
