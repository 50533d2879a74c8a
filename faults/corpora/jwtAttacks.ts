import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';

/**
 * Authorization headers that must all be refused with 401 by whatever verifies the token (the
 * monolith, the thoughts service; the gateway forwards them to one of those): forgeries, the
 * algorithm confusions, expired or incomplete tokens. No login is sent, so the per-address
 * login throttle (LOGIN_MAX_FAILURES_PER_ADDRESS) never answers 429 instead. One copy, shared
 * by the API contract suite (tests/contract/apiContract.ts) and `npm run faults`.
 * `undefined` = no Authorization header at all.
 */
export function jwtAttacks(keys: { privateKeyPem: string; publicKeyPem: string }, now = Math.floor(Date.now() / 1000)): Record<string, string | undefined> {
  const key = keys.privateKeyPem;
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = part({ username: 'bruce', iat: now, exp: now + 60 });
  // The classic confusion attack: HS256 with the RSA public key as the HMAC secret.
  const hsInput = `${part({ alg: 'HS256', typ: 'JWT' })}.${claims}`;
  const hsSignature = createHmac('sha256', keys.publicKeyPem).update(hsInput).digest('base64url');
  const valid = jwt.sign({ username: 'bruce', iat: now, exp: now + 60 }, key, { algorithm: 'RS256' });
  const [header, , signature] = valid.split('.');
  return {
    'no header': undefined,
    'wrong scheme': 'Basic YnJ1Y2U6cGFzc3dvcmQ=',
    'Bearer without token': 'Bearer',
    garbage: 'Bearer not.a.jwt',
    'wrong key': `Bearer ${jwt.sign({ username: 'bruce', iat: now, exp: now + 60 }, otherKey, { algorithm: 'RS256' })}`,
    expired: `Bearer ${jwt.sign({ username: 'bruce', iat: now - 7200, exp: now - 3600 }, key, { algorithm: 'RS256' })}`,
    'not valid yet (nbf in an hour)': `Bearer ${jwt.sign({ username: 'bruce', iat: now, nbf: now + 3600, exp: now + 7200 }, key, { algorithm: 'RS256' })}`,
    'no exp': `Bearer ${jwt.sign({ username: 'bruce', iat: now }, key, { algorithm: 'RS256' })}`,
    'no username': `Bearer ${jwt.sign({ iat: now, exp: now + 60 }, key, { algorithm: 'RS256' })}`,
    'an empty username': `Bearer ${jwt.sign({ username: '', iat: now, exp: now + 60 }, key, { algorithm: 'RS256' })}`,
    'alg none': `Bearer ${part({ alg: 'none', typ: 'JWT' })}.${claims}.`,
    'HS256 signed with the public key': `Bearer ${hsInput}.${hsSignature}`,
    'RS512 with the right key (only RS256 is accepted)': `Bearer ${jwt.sign({ username: 'bruce', iat: now, exp: now + 60 }, key, { algorithm: 'RS512' })}`,
    'a valid signature over another payload': `Bearer ${header}.${part({ username: 'stephen', iat: now, exp: now + 60 })}.${signature}`,
    'a valid token with its signature cut off': `Bearer ${header}.${valid.split('.')[1]}.`,
  };
}
