import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectEtcd, type EtcdConnection } from '../../gateway/src/etcd/etcdConnection.ts';
import { etcdSettingsFromEnv } from '../../gateway/src/etcd/etcdSettings.ts';
import { freePort } from './ports.ts';
import { eventually } from './rolloutTraffic.ts';

/**
 * A throwaway single-member etcd v3 server (Debian `etcd-server`) on free loopback ports, its
 * data in a temp dir. `stop()` + `start()` take it away and bring it back on the same ports and
 * data (a store outage); `close()` ends it for good and removes the data.
 */
export interface ThrowawayEtcd {
  /** `127.0.0.1:PORT`, what GATEWAY_PLAN_STORE names. */
  readonly endpoint: string;
  /** `etcd://127.0.0.1:PORT/PREFIX` for GATEWAY_PLAN_STORE; each call with a new prefix gives a store of its own. */
  storeUrl(prefix?: string): string;
  /** Stops the server (SIGKILL: as a crash), keeping its data. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data, and waits until it is healthy. */
  start(): Promise<void>;
  /** Compacts the history up to the current revision (what makes a watcher's revision unreachable). */
  compact(): void;
  /** The gateway's own client on `storeUrl` (what connectEtcd gives a replica), closed with the server. */
  connect(storeUrl: string): EtcdConnection;
  close(): Promise<void>;
}

const ETCD = process.env.ETCD_BIN ?? 'etcd';
const ETCDCTL = process.env.ETCDCTL_BIN ?? 'etcdctl';

let prefixes = 0;

export async function startThrowawayEtcd(): Promise<ThrowawayEtcd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `127.0.0.1:${clientPort}`;
  let child: ChildProcess | null = null;
  let stderr = '';

  const ctl = (...args: string[]) =>
    spawnSync(ETCDCTL, [`--endpoints=${endpoint}`, '--command-timeout=3s', ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });

  async function start(): Promise<void> {
    stderr = '';
    child = spawn(
      ETCD,
      [
        '--name=test',
        `--data-dir=${path.join(dir, 'data')}`,
        `--listen-client-urls=http://${endpoint}`,
        `--advertise-client-urls=http://${endpoint}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=test=http://127.0.0.1:${peerPort}`,
        '--log-level=error',
        '--logger=zap',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const started = child;
    await eventually(`etcd on ${endpoint} healthy`, 20_000, () => {
      if (started.exitCode !== null) throw new Error(`etcd exited (${started.exitCode}): ${stderr}`);
      return ctl('endpoint', 'health').status === 0 ? true : undefined;
    });
  }

  async function stop(): Promise<void> {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  }

  await start();
  const connections: EtcdConnection[] = [];
  return {
    endpoint,
    storeUrl: (prefix = `test-${process.pid}-${++prefixes}`) => `etcd://${endpoint}/${prefix}`,
    stop,
    start,
    compact() {
      const status = ctl('endpoint', 'status', '--write-out=json');
      const revision = (JSON.parse(status.stdout) as { Status: { header: { revision: number } } }[])[0]!.Status.header.revision;
      const compacted = ctl('compact', String(revision));
      if (compacted.status !== 0) throw new Error(`etcdctl compact failed: ${compacted.stderr}`);
    },
    connect(storeUrl) {
      const connection = connectEtcd(etcdSettingsFromEnv({ GATEWAY_PLAN_STORE: storeUrl })!);
      connections.push(connection);
      return connection;
    },
    async close() {
      for (const connection of connections.splice(0)) connection.close();
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
