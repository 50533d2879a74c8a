import { Etcd3, type Namespace } from 'etcd3';
import type { EtcdSettings } from './etcdSettings.ts';

/**
 * Where each part of a fleet lives under its prefix: the plan is ONE value (a weight change is
 * never half-applied), everything else sits beside it. Every key the gateway uses is named here.
 */
export const ETCD_KEYS = {
  /** The plan text (routes.yaml as written); its mod revision is what writes compare on. */
  plan: 'plan',
  /** `audit/<20-digit revision>-<n>`: the audit lines of the change committed at that revision (written in the same transaction). */
  audit: 'audit/',
  /** `fleet/replicas/<id>`: each replica's registration (JSON), bound to its lease. */
  replicas: 'fleet/replicas/',
  /** `fleet/metrics/<id>`: each replica's counters (prom-client JSON), bound to its lease, for fleet-wide numbers and gates. */
  metrics: 'fleet/metrics/',
  /** `fleet/traffic/<id>`: each replica's recent-traffic window as raw counts (JSON), bound to its lease, for the dashboard's fleet numbers. */
  traffic: 'fleet/traffic/',
  /** `fleet/shadow/<id>`: each replica's last shadow mismatches and learnt noise (JSON), bound to its lease. */
  shadow: 'fleet/shadow/',
  /** The rollout controller's election. */
  election: 'rollout/leader',
  /** The rollouts' progress (one JSON value, as routes.rollout.json holds for a file plan). */
  progress: 'rollout/progress',
} as const;

/** One client to the fleet's etcd, and the namespace of its prefix. */
export interface EtcdConnection {
  readonly settings: EtcdSettings;
  readonly client: Etcd3;
  /** Keys relative to `/<prefix>/` (ETCD_KEYS). */
  readonly keys: Namespace;
  close(): void;
}

/** Opens the client (lazily: nothing is dialled until the first call). */
export function connectEtcd(settings: EtcdSettings): EtcdConnection {
  const client = new Etcd3({
    hosts: [...settings.hosts],
    dialTimeout: 2_000,
    ...(settings.tls ? { credentials: { rootCertificate: settings.tls.ca, privateKey: settings.tls.key, certChain: settings.tls.cert } } : {}),
    ...(settings.auth ? { auth: { username: settings.auth.username, password: settings.auth.password } } : {}),
  });
  return { settings, client, keys: client.namespace(`/${settings.prefix}/`), close: () => client.close() };
}
