import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEtcd, type EtcdConnection } from '../../gateway/src/etcd/etcdConnection.ts';
import { etcdSettingsFromEnv } from '../../gateway/src/etcd/etcdSettings.ts';
import { endProcess } from '../support/gatewayProcess.ts';
import { freePort } from '../support/ports.ts';
import { eventually } from '../support/rolloutTraffic.ts';
import { REPO_ROOT } from './composeEnv.ts';
import { containerOf, envOf, K8S_DIR, loadManifests, NAMESPACE, projectedFiles, type Workload } from './k8sManifests.ts';

/**
 * The etcd security deploy/k8s sets up, for real on loopback: certificates from
 * deploy/etcd/make-certs.sh, the three members of the StatefulSet started with its own flags
 * (names and ports mapped onto 127.0.0.1), auth turned on with deploy/etcd/enable-auth.sh as
 * deploy/README.md says, then the gateway's store settings from its Deployment: they connect,
 * and a client without its certificate, with a wrong password or outside the fleet's prefix
 * is refused.
 */
const manifests = loadManifests();
const statefulSet = manifests.find((m) => m.kind === 'StatefulSet') as Workload;
const gateway = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'gateway') as Workload;
const ETCD = process.env.ETCD_BIN ?? 'etcd';

/** Secret → { key → file name } from the `kubectl create secret generic NAME --from-file=KEY=FILE` commands secrets.example.yaml documents. */
function documentedSecretFiles(): Map<string, Record<string, string>> {
  const commands = readFileSync(path.join(K8S_DIR, 'secrets.example.yaml'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('#'))
    .map((line) => line.replace(/^#\s?/, ''))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const secrets = new Map<string, Record<string, string>>();
  for (const [, name, rest] of commands.matchAll(/create secret generic (\S+)([^\n]*)/g))
    secrets.set(name!, Object.fromEntries([...rest!.matchAll(/--from-file=([^=\s]+)=(\S+)/g)].map(([, key, file]) => [key!, file!])));
  return secrets;
}

describe('etcd as deploy/k8s secures it: TLS with client certificates, and auth', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-etcd-tls-'));
  const certs = path.join(dir, 'certs');
  const members = Array.from({ length: statefulSet.spec.replicas }, (_, i) => `${statefulSet.metadata.name}-${i}`);
  const nativePorts = new Map<string, number>();
  const children: ChildProcess[] = [];
  const connections: EtcdConnection[] = [];
  const secretFiles = documentedSecretFiles();

  /** A file a workload's container is given, as the documented `kubectl create secret` would fill it from make-certs.sh's output. */
  const localFile = (workload: Workload, containerPath: string) => {
    const projected = projectedFiles(workload).get(containerPath);
    const file = projected && secretFiles.get(projected.source)?.[projected.key];
    if (!file) throw new Error(`${workload.metadata.name}: ${containerPath} is not a documented Secret file`);
    return path.join(certs, file);
  };
  /** `member:port` (or 0.0.0.0:port for `self`) → 127.0.0.1 and the port this test gave it. */
  const nativeUrls = (text: string, self: string) =>
    text.replace(/\b(https?):\/\/([a-z0-9.-]+):(\d+)/g, (_whole, scheme: string, host: string, port: string) => {
      const member = host === '0.0.0.0' ? self : members.find((m) => host.startsWith(`${m}.`));
      if (!member) throw new Error(`${host} is not a member`);
      return `${scheme}://127.0.0.1:${nativePorts.get(`${member}:${port}`)}`;
    });
  /** The gateway Deployment's store variables, with its member names, ports and Secret files mapped onto this machine. */
  const gatewayStoreEnv = () => {
    const env = envOf(containerOf(gateway));
    const result: Record<string, string> = {};
    for (const [name, variable] of Object.entries(env)) {
      if (!name.startsWith('GATEWAY_ETCD_') && name !== 'GATEWAY_PLAN_STORE') continue;
      const value = variable.value!;
      if (name === 'GATEWAY_PLAN_STORE')
        result[name] = value.replace(
          /(?<=[/,])([a-z0-9-]+)\.[a-z0-9.-]+:(\d+)/g,
          (_w, member: string, port: string) => `127.0.0.1:${nativePorts.get(`${member}:${port}`)}`,
        );
      else result[name] = name.endsWith('_FILE') ? localFile(gateway, value) : value;
    }
    return result;
  };
  const connect = async (env: Record<string, string>) => {
    const connection = connectEtcd(etcdSettingsFromEnv(env)!);
    connections.push(connection);
    return connection;
  };
  /** A call that must be refused: rejected within 15 s (not hanging on retries). */
  const refused = (call: Promise<unknown>) =>
    Promise.race([
      call.then(
        () => 'answered',
        (error: Error) => `refused: ${error.message}`,
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('no answer within 15 s'), 15_000)),
    ]);

  beforeAll(async () => {
    const made = spawnSync('sh', [path.join(REPO_ROOT, 'deploy/etcd/make-certs.sh'), certs, NAMESPACE, statefulSet.spec.serviceName!], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const container = containerOf(statefulSet);
    const containerPorts = (container.ports ?? []).map((p) => p.containerPort);
    for (const member of members) for (const port of containerPorts) nativePorts.set(`${member}:${port}`, await freePort());
    for (const member of members) {
      const args = (container.args ?? []).map((arg) => {
        const [flag, value = ''] = arg.split(/=(.*)/s);
        const named = value.replaceAll('$(POD_NAME)', member);
        if (flag === '--data-dir') return `${flag}=${path.join(dir, member)}`;
        if (named.startsWith('/etc/')) return `${flag}=${localFile(statefulSet, named)}`;
        return arg.includes('=') ? `${flag}=${nativeUrls(named, member)}` : arg;
      });
      const child = spawn(ETCD, [...args, '--logger=zap', '--log-level=error'], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
    }
    // As deploy/README.md says: etcdctl as root, through ETCDCTL_* with the root certificate.
    const asRoot = {
      PATH: process.env.PATH,
      ETCDCTL_API: '3',
      ETCDCTL_ENDPOINTS: `https://127.0.0.1:${nativePorts.get(`${members[0]}:2379`)}`,
      ETCDCTL_CACERT: path.join(certs, 'etcd-ca.crt'),
      ETCDCTL_CERT: path.join(certs, 'etcd-root.crt'),
      ETCDCTL_KEY: path.join(certs, 'etcd-root.key'),
    };
    await eventually('the three members form a cluster over peer TLS', 30_000, () =>
      spawnSync('etcdctl', ['endpoint', 'health', '--cluster'], { env: asRoot }).status === 0 ? true : undefined,
    );
    const auth = spawnSync('sh', [path.join(REPO_ROOT, 'deploy/etcd/enable-auth.sh'), certs], { encoding: 'utf8', env: asRoot });
    expect(auth.status, auth.stdout + auth.stderr).toBe(0);
  }, 60_000);

  afterAll(async () => {
    for (const connection of connections) connection.close();
    await Promise.all(children.map((child) => endProcess(child, 'SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  it("the gateway's settings (etcds://, its client certificate, the etcd user gateway) read and write the fleet's prefix on every member", async () => {
    const env = gatewayStoreEnv();
    const settings = etcdSettingsFromEnv(env)!;
    expect(settings.hosts).toHaveLength(members.length);
    expect(settings.hosts.every((host) => host.startsWith('https://127.0.0.1:'))).toBe(true);
    const etcd = await connect(env);
    await etcd.keys.put('deploy-test').value('written over TLS as gateway');
    expect(await etcd.keys.get('deploy-test').string()).toBe('written over TLS as gateway');
    // Each member on its own serves the same data (one cluster, replicated over peer TLS).
    for (const host of settings.hosts) {
      const one = await connect({ ...env, GATEWAY_PLAN_STORE: `etcds://${new URL(host).host}/${settings.prefix}` });
      expect(await one.keys.get('deploy-test').string(), host).toBe('written over TLS as gateway');
    }
  });

  it('refuses the gateway user outside its prefix, a wrong password, and a client without a certificate', async () => {
    const env = gatewayStoreEnv();
    const etcd = await connect(env);
    expect(await refused(etcd.client.put('/elsewhere/key').value('x').exec())).toMatch(/^refused: .*permission denied/i);
    const wrongPassword = await connect({ ...env, GATEWAY_ETCD_PASSWORD_FILE: path.join(certs, 'etcd-root-password') });
    expect(await refused(wrongPassword.keys.get('deploy-test').string())).toMatch(/^refused: .*(authentication failed|invalid)/i);
    const { GATEWAY_ETCD_CERT_FILE: _cert, GATEWAY_ETCD_KEY_FILE: _key, ...withoutCertificate } = env;
    const anonymous = await connect(withoutCertificate);
    expect(await refused(anonymous.keys.get('deploy-test').string())).toMatch(/^refused/);
  }, 60_000);
});
