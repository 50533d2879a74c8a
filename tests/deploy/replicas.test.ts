import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../../gateway/test/helpers/backends.ts';
import { freePort } from '../support/ports.ts';
import { waitHealthy } from '../support/processes.ts';
import { REPO_ROOT } from './composeEnv.ts';

/**
 * Several gateway replicas behind a load balancer must decide alike without sharing state:
 * three real `gateway serve` processes, one routes file, 1 000 distinct users.
 */
describe('three gateway replicas with the same routes.yaml', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-replicas-'));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const replicas: { url: string; child: ChildProcess }[] = [];
  let legacy: TestBackend;
  let thoughts: TestBackend;

  beforeAll(async () => {
    legacy = await startBackend('legacy');
    thoughts = await startBackend('thoughts');
    const routesFile = path.join(dir, 'routes.yaml');
    writeFileSync(
      routesFile,
      [
        'backends:',
        `  legacy: { url: ${legacy.url}, legacy: true }`,
        `  thoughts: { url: ${thoughts.url} }`,
        'cohort: { keys: [jwt:username, cookie:gw_cohort], salt: replicas }',
        'routes:',
        '  - name: thoughts',
        '    match: { path: /api/thoughts/** }',
        '    split: { thoughts: 40 }',
        '',
      ].join('\n'),
    );
    const publicKeyFile = path.join(dir, 'jwt-public.pem');
    writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
    for (let i = 0; i < 3; i++) {
      const [port, adminPort] = [await freePort(), await freePort()];
      const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/cli.ts', 'serve'], {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH,
          GATEWAY_ROUTES: routesFile,
          GATEWAY_HOST: '127.0.0.1',
          GATEWAY_PORT: String(port),
          GATEWAY_ADMIN_PORT: String(adminPort),
          JWT_PUBLIC_KEY_FILE: publicKeyFile,
          LOG_LEVEL: 'warn',
        },
        stdio: 'ignore',
      });
      replicas.push({ url: `http://127.0.0.1:${port}`, child });
      await waitHealthy(`http://127.0.0.1:${adminPort}/healthz`);
    }
  }, 60_000);

  afterAll(async () => {
    for (const { child } of replicas) child.kill('SIGTERM');
    await Promise.all([legacy?.close(), thoughts?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('route 1 000 distinct users identically', async () => {
    const now = Math.floor(Date.now() / 1000);
    const decisions: string[][] = [];
    const users = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    for (let start = 0; start < users.length; start += 25) {
      const batch = users.slice(start, start + 25);
      decisions.push(
        ...(await Promise.all(
          batch.map(async (username) => {
            const token = jwt.sign({ username, iat: now, exp: now + 600 }, privateKey, { algorithm: 'RS256' });
            return Promise.all(
              replicas.map(async ({ url }) => {
                const response = await fetch(`${url}/api/thoughts/1/`, { headers: { authorization: `Bearer ${token}` } });
                await response.arrayBuffer();
                return response.headers.get('x-backend') ?? `HTTP ${response.status}`;
              }),
            );
          }),
        )),
      );
    }
    const disagreements = decisions.filter((sides) => new Set(sides).size !== 1);
    expect(disagreements).toEqual([]);
    const onNew = decisions.filter((sides) => sides[0] === 'thoughts').length;
    expect(onNew / 1000).toBeGreaterThan(0.35);
    expect(onNew / 1000).toBeLessThan(0.45);
  });
});
