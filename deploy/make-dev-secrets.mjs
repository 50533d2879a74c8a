#!/usr/bin/env node
// Creates the secret files docker-compose.yaml mounts, under deploy/secrets/ (git-ignored):
//   jwt-private.pem, jwt-public.pem   RS256 key pair (users and monolith sign, all verify)
//   gateway-admin-token               bearer token for the gateway's admin port (and Prometheus)
//   gateway-override-secret           HMAC secret of the testers' override tokens (gateway override-token)
//   gateway-cohort-secret             HMAC secret of the gateway's gw_cohort cookie
//   grafana-admin-password            Grafana's admin password
// Existing files are kept (so tokens already issued stay valid); --force replaces them.
// Usage: node deploy/make-dev-secrets.mjs [--force] [--out DIR]
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SECRET_FILES = [
  'jwt-private.pem',
  'jwt-public.pem',
  'gateway-admin-token',
  'gateway-override-secret',
  'gateway-cohort-secret',
  'grafana-admin-password',
];

/** Writes the missing secret files into `dir` (all of them with `force`); returns the files written. */
export function makeDevSecrets(dir, { force = false } = {}) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name) => path.join(dir, name);
  const written = [];
  // The containers run as the image's `node` user, which is not the host user that owns
  // these files: compose mounts file secrets with their host permissions, so they must be
  // readable by others. The folder itself is 0700, which keeps other host users out.
  const write = (name, content) => {
    const temp = `${file(name)}.${process.pid}.tmp`;
    writeFileSync(temp, content, { mode: 0o644 });
    chmodSync(temp, 0o644);
    renameSync(temp, file(name));
    written.push(name);
  };
  if (force || !existsSync(file('jwt-private.pem')) || !existsSync(file('jwt-public.pem'))) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    write('jwt-private.pem', privateKey);
    write('jwt-public.pem', publicKey);
  }
  for (const name of ['gateway-admin-token', 'grafana-admin-password']) {
    if (force || !existsSync(file(name))) write(name, randomBytes(24).toString('base64url'));
  }
  // The gateway wants 32+ characters for an HMAC secret.
  for (const name of ['gateway-override-secret', 'gateway-cohort-secret']) {
    if (force || !existsSync(file(name))) write(name, randomBytes(32).toString('hex'));
  }
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const dir = outIndex >= 0 && args[outIndex + 1] ? path.resolve(args[outIndex + 1]) : path.join(path.dirname(fileURLToPath(import.meta.url)), 'secrets');
  const written = makeDevSecrets(dir, { force: args.includes('--force') });
  process.stdout.write(written.length > 0 ? `wrote ${written.join(', ')} in ${dir}\n` : `${dir} already has every secret (--force replaces them)\n`);
}
