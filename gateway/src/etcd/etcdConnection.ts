import { circuitBreaker, ConsecutiveBreaker, ConstantBackoff, handleWhen, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, type Namespace } from 'etcd3';
import type { EtcdSettings } from './etcdSettings.ts';

/**
 * Where each part of a fleet lives under its prefix: the plan is ONE value (a weight change is
 * never half-applied), everything else sits beside it. Every key the gateway uses is named here.
 */
export const ETCD_KEYS = {
  /** The plan text (routes.yaml as written); its mod revision is what writes compare on. */
  plan: 'plan',
  /**
   * `audit/<20-digit revision>-<n>`: the audit lines of the change made on top of the plan at that
   * mod revision (written in the same transaction; only one change can succeed on a revision, so
   * the keys are unique and sort in the order of the changes). The same transaction removes the
   * oldest beyond GATEWAY_ETCD_AUDIT_KEEP.
   */
  audit: 'audit/',
  /** `fleet/replicas/<id>`: each replica's registration (JSON), bound to its lease. */
  replicas: 'fleet/replicas/',
  /** `fleet/metrics/<id>`: each replica's counters (prom-client JSON), bound to its lease, for fleet-wide numbers and gates. */
  metrics: 'fleet/metrics/',
  /** `fleet/traffic/<id>`: each replica's recent-traffic window as raw counts (JSON), bound to its lease, for the dashboard's fleet numbers. */
  traffic: 'fleet/traffic/',
  /** `fleet/clients/<id>`: each replica's recent clients as cohort buckets per group (JSON), bound to its lease, for the fleet's moved-clients estimate. */
  clients: 'fleet/clients/',
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

/** Every call but a stream gives up after this: a write while etcd is away answers 503 in seconds, not minutes. */
const CALL_DEADLINE_MS = 2_000;
/**
 * How soon the client tries again once etcd is away: a watch, the gRPC channel, and a member
 * whose circuit is open are retried at least this often, so everything resyncs within ~1 s of
 * etcd coming back (the library's defaults back off to 30 s and 2 min).
 */
const RECONNECT_MS = 300;

/** Opens the client (lazily: nothing is dialled until the first call). */
export function connectEtcd(settings: EtcdSettings): EtcdConnection {
  const client = new Etcd3({
    hosts: [...settings.hosts],
    dialTimeout: CALL_DEADLINE_MS,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_DEADLINE_MS }),
    grpcOptions: { 'grpc.initial_reconnect_backoff_ms': RECONNECT_MS, 'grpc.max_reconnect_backoff_ms': 3 * RECONNECT_MS },
    faultHandling: {
      // A member that failed 3 calls in a row is skipped (failing fast) until a retry after RECONNECT_MS…
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: RECONNECT_MS, breaker: new ConsecutiveBreaker(3) }),
      // …and a failed call is tried once more on another member, if there is one.
      global: retry(handleWhen(isRecoverableError), { maxAttempts: Math.min(1, settings.hosts.length - 1) }),
      watchBackoff: new ConstantBackoff(RECONNECT_MS).next(),
    },
    ...(settings.tls ? { credentials: { rootCertificate: settings.tls.ca, privateKey: settings.tls.key, certChain: settings.tls.cert } } : {}),
    ...(settings.auth ? { auth: { username: settings.auth.username, password: settings.auth.password } } : {}),
  });
  return { settings, client, keys: client.namespace(`/${settings.prefix}/`), close: () => client.close() };
}
