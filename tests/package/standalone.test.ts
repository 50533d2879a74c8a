import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';
import { eventually } from '../support/rolloutTraffic.ts';
import { BACK_END_ONLY_PACKAGES } from './dependencies.ts';

/**
 * The gateway as a stranger gets it, doing what gateway/README.md "Use it for your own
 * migration" says: `npm pack -w gateway`, the tarball installed from the registry into an
 * empty folder, the README's routes.yaml in front of two small back ends, `npx gateway serve`,
 * a 50/50 split, `npx gateway shift`, /metrics. The install takes a minute or more.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const README = path.join(ROOT, 'gateway/README.md');
const run = promisify(execFile);
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** The environment without npm's own variables: this test may run under `npm test`, whose workspace settings must not leak into the stranger's folder. */
const cleanEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_'))),
  ...extra,
});

/** The routes.yaml of the README's section, with its two back-end URLs pointed at this test's. */
function readmeRoutes(monolithUrl: string, ordersUrl: string): string {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('## Use it for your own migration'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!yaml) throw new Error('gateway/README.md: no yaml block under "## Use it for your own migration"');
  return yaml.replace('http://127.0.0.1:7001', monolithUrl).replace('http://127.0.0.1:7002', ordersUrl);
}

/** A back end that answers every request with its name. */
async function namedBackend(name: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => res.end(name));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Every package name in an `npm ls --all --json` tree. */
function packageNames(tree: { dependencies?: Record<string, unknown> }): string[] {
  return Object.entries(tree.dependencies ?? {}).flatMap(([name, inner]) => [name, ...packageNames(inner as typeof tree)]);
}

describe('the packed gateway, installed alone into an empty folder', () => {
  let packDir: string;
  let project: string;
  let gateway: ChildProcess;
  let publicUrl: string;
  let adminUrl: string;
  const backends: Server[] = [];

  const npx = (args: string[]) => run('npx', ['--no-install', 'gateway', ...args], { cwd: project, env: cleanEnv({ GATEWAY_ADMIN_URL: adminUrl }) });
  const backendOf = async (cookie?: string) => {
    const response = await fetch(`${publicUrl}/api/orders/42`, cookie ? { headers: { cookie } } : {});
    return { backend: await response.text(), cookie: response.headers.get('set-cookie')?.split(';')[0] };
  };

  beforeAll(async () => {
    packDir = await mkdtemp(path.join(os.tmpdir(), 'gateway-pack-'));
    project = await mkdtemp(path.join(os.tmpdir(), 'gateway-standalone-'));
    await run('npm', ['pack', '-w', 'gateway', '--pack-destination', packDir], { cwd: ROOT, env: cleanEnv() });
    const tarball = (await readdir(packDir)).find((name) => name.endsWith('.tgz'));
    await run('npm', ['install', '--no-audit', '--no-fund', path.join(packDir, tarball!)], { cwd: project, env: cleanEnv() });

    const monolith = await namedBackend('monolith');
    const orders = await namedBackend('orders');
    backends.push(monolith.server, orders.server);
    await writeFile(path.join(project, 'routes.yaml'), readmeRoutes(monolith.url, orders.url));
    const [port, adminPort] = [await freePort(), await freePort()];
    publicUrl = `http://127.0.0.1:${port}`;
    adminUrl = `http://127.0.0.1:${adminPort}`;
    // Its own process group, so the npx wrapper and the gateway under it stop together.
    gateway = spawn('npx', ['--no-install', 'gateway', 'serve'], {
      cwd: project,
      env: cleanEnv({ GATEWAY_PORT: String(port), GATEWAY_ADMIN_PORT: String(adminPort), LOG_LEVEL: 'warn' }),
      stdio: ['ignore', 'ignore', 'inherit'],
      detached: true,
    });
    await eventually('the installed gateway answers /readyz', 30_000, async () =>
      (await fetch(`${adminUrl}/readyz`).catch(() => null))?.ok ? true : undefined,
    );
  }, 600_000);

  afterAll(async () => {
    if (gateway?.pid !== undefined && gateway.exitCode === null) {
      const exited = new Promise((resolve) => gateway.once('exit', resolve));
      process.kill(-gateway.pid, 'SIGTERM');
      await exited;
    }
    for (const server of backends) server.close();
    await Promise.all([packDir, project].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
  }, 30_000);

  it('installed compiled JavaScript only (its API importable by name), with no TypeScript, database driver or password hashing in its dependency tree', async () => {
    const installed = path.join(project, 'node_modules/@mythoughts/gateway');
    expect(existsSync(path.join(installed, 'dist/cli.js'))).toBe(true);
    expect(existsSync(path.join(installed, 'dist/gateway.d.ts'))).toBe(true);
    expect(existsSync(path.join(installed, 'src'))).toBe(false);
    const imported = await run(
      process.execPath,
      ['--input-type=module', '-e', "const { startGateway } = await import('@mythoughts/gateway'); console.log(typeof startGateway);"],
      {
        cwd: project,
      },
    );
    expect(imported.stdout.trim()).toBe('function');
    const { stdout } = await run('npm', ['ls', '--all', '--json'], { cwd: project, env: cleanEnv(), maxBuffer: 16 << 20 });
    const names = new Set(packageNames(JSON.parse(stdout) as { dependencies?: Record<string, unknown> }));
    expect(names.has('@mythoughts/gateway')).toBe(true);
    expect([...names].filter((name) => [...BACK_END_ONLY_PACKAGES, 'tsx', 'typescript', '@mythoughts/shared'].includes(name))).toEqual([]);
  });

  it('validates the README routes.yaml', async () => {
    const { stdout } = await npx(['validate']);
    expect(stdout).toContain('orders: /api/orders/** → orders 50%, monolith 50%');
  });

  it('splits new clients 50/50 and keeps each client on its side', async () => {
    const answers = await Promise.all(Array.from({ length: 200 }, () => backendOf()));
    const toOrders = answers.filter((answer) => answer.backend === 'orders').length;
    expect(answers.filter((answer) => answer.backend === 'monolith').length).toBe(200 - toOrders);
    // 200 coin flips: outside 60..140 happens about once in 10^8 runs.
    expect(toOrders).toBeGreaterThanOrEqual(60);
    expect(toOrders).toBeLessThanOrEqual(140);
    const first = answers[0]!;
    const again = await Promise.all(Array.from({ length: 10 }, () => backendOf(first.cookie)));
    expect(new Set(again.map((answer) => answer.backend))).toEqual(new Set([first.backend]));
    expect(await fetch(`${publicUrl}/anything/else`).then((response) => response.text())).toBe('monolith');
  });

  it('sends every client to the new service after `npx gateway shift orders orders=100`', async () => {
    const monolithClient = await eventually('a new client dealt to the monolith', 10_000, async () => {
      const answer = await backendOf();
      return answer.backend === 'monolith' ? answer : undefined;
    });
    const { stdout } = await npx(['shift', 'orders', 'orders=100']);
    expect(stdout).toContain('→ orders 100%, monolith 0%');
    expect(await readFile(path.join(project, 'routes.yaml'), 'utf8')).toContain('split: { orders: 100 }');
    await eventually('the running gateway follows the shift', 10_000, async () => {
      const answers = await Promise.all([backendOf(monolithClient.cookie), ...Array.from({ length: 20 }, () => backendOf())]);
      return answers.every((answer) => answer.backend === 'orders') ? true : undefined;
    });
  });

  it('finds the files it reads at run time inside the installed package: the dashboard and the routes.yaml schema', async () => {
    const dashboard = await fetch(`${adminUrl}/`);
    expect(dashboard.status).toBe(200);
    expect(await dashboard.text()).toContain('<script src="/dashboard/app.js"');
    expect((await fetch(`${adminUrl}/dashboard/app.js`)).status).toBe(200);
    const { stdout } = await npx(['schema', '--path']);
    expect(stdout.trim()).toBe(path.join(await realpath(project), 'node_modules/@mythoughts/gateway/schema/routes.schema.json'));
    expect(JSON.parse(readFileSync(stdout.trim(), 'utf8'))).toHaveProperty('$schema');
  });

  it('counts the traffic of each backend on the admin port /metrics', async () => {
    const text = await fetch(`${adminUrl}/metrics`).then((response) => response.text());
    expect(text).toMatch(/gateway_requests_total\{route="orders",backend="orders"[^}]*\} [1-9]/);
    expect(text).toMatch(/gateway_requests_total\{route="orders",backend="monolith"[^}]*\} [1-9]/);
  });

  it('ships type declarations that a strict TypeScript program (skipLibCheck off) compiles against', async () => {
    await writeFile(
      path.join(project, 'embed.mts'),
      "import { startGateway } from '@mythoughts/gateway';\nexport const start: typeof startGateway = startGateway;\n",
    );
    const compilerOptions = { module: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] };
    await writeFile(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['embed.mts'] }));
    await run(process.execPath, [TSC, '-p', project]);
  });
});
