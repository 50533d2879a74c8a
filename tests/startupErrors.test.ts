import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** Expected start-up failures, as a person running a service alone sees them: one line, no stack. */
const root = path.resolve(import.meta.dirname, '..');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-errors-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function startUsersService(env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'services/users/src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, USERS_PORT: '0', LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr.trim() };
}

describe('a service that cannot start says why in one line', () => {
  it.each([
    [
      'an unreachable DATABASE_URL',
      { DATABASE_URL: 'postgres://app:secret@127.0.0.1:1/mythoughts' },
      /^users: cannot connect to the postgres database at postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/mythoughts: .*ECONNREFUSED/,
    ],
    [
      'a DATABASE_URL that is not PostgreSQL',
      { DATABASE_URL: 'mysql://db/x' },
      /^users: DATABASE_URL must start with postgres:\/\/ or postgresql:\/\/ \(got "mysql:\/\/db\/x"\)/,
    ],
    [
      'a missing key file',
      { JWT_PUBLIC_KEY_FILE: '/nonexistent/jwt.pem', JWT_PRIVATE_KEY_FILE: '/nonexistent/key.pem' },
      /^users: cannot read key file \/nonexistent\/key\.pem \(JWT_PRIVATE_KEY_FILE\): no such file$/,
    ],
    [
      'a private key without its public key',
      { JWT_PRIVATE_KEY_FILE: '/nonexistent/key.pem' },
      /^users: JWT_PRIVATE_KEY_FILE is set but JWT_PUBLIC_KEY_FILE is not/,
    ],
    ['a port that is not a number', { USERS_PORT: 'eighty' }, /^users: USERS_PORT must be a port number from 0 to 65535 \(got "eighty"\)$/],
    [
      'a lockout that is not a number of seconds',
      { LOGIN_LOCKOUT_SECONDS: '1m' },
      /^users: LOGIN_LOCKOUT_SECONDS must be a whole number of seconds, at least 1 \(got "1m"\)$/,
    ],
    [
      'a failure limit of zero',
      { LOGIN_MAX_FAILURES_PER_USER: '0' },
      /^users: LOGIN_MAX_FAILURES_PER_USER must be a whole number of failures, at least 1 \(got "0"\)$/,
    ],
    [
      'a TRUST_PROXY that is no address',
      { TRUST_PROXY: 'the gateway' },
      /^users: TRUST_PROXY must be false, a hop count, or addresses\/subnets such as "loopback, 10\.0\.0\.0\/8" \(got "the gateway"\)/,
    ],
  ])('%s', (_name, env, message) => {
    const { status, stderr } = startUsersService(env);
    expect(status).toBe(1);
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
    expect(stderr).not.toContain('secret');
  });
});
