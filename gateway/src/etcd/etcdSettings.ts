import { readFileSync } from 'node:fs';
import { envWholeNumber } from '@mythoughts/runtime/env';
import { ConfigError } from '@mythoughts/runtime/errors';

/**
 * Where the fleet's plan lives: GATEWAY_PLAN_STORE=etcd://HOST:PORT[,HOST:PORT…]/PREFIX
 * (etcds:// for TLS), with the client TLS and auth settings from their own variables.
 */
export interface EtcdSettings {
  /** `http(s)://host:port`, one per member. */
  readonly hosts: readonly string[];
  /** Every key of this gateway's fleet starts with `/<prefix>/` (so several fleets share one etcd). */
  readonly prefix: string;
  readonly tls: { readonly ca: Buffer; readonly cert?: Buffer; readonly key?: Buffer } | null;
  readonly auth: { readonly username: string; readonly password: string } | null;
  /** The spec as given with any password left out, for logs and errors. */
  readonly display: string;
  /** GATEWAY_ETCD_AUDIT_KEEP: how many audit entries the store keeps, the newest (each write removes the oldest beyond). */
  readonly auditKeep: number;
}

/**
 * 1000 entries of ~400 bytes: months of shifts and rollout steps in well under 1 MiB of
 * etcd's space quota (2 GiB by default, shared with every revision etcd keeps until compaction).
 */
const AUDIT_KEEP = 1000;

export const ETCD_ENVIRONMENT_HELP = `  GATEWAY_PLAN_STORE           etcd://HOST:PORT[,HOST:PORT...]/PREFIX: the plan, audit, fleet and rollout live in etcd v3
                               under /PREFIX/ (etcds:// for TLS); unset: the routes file (GATEWAY_ROUTES)
  GATEWAY_ETCD_CA_FILE         etcds://: CA certificate that signed the etcd servers' certificates
  GATEWAY_ETCD_CERT_FILE       etcds://: client certificate (etcd --client-cert-auth); with GATEWAY_ETCD_KEY_FILE
  GATEWAY_ETCD_KEY_FILE        etcds://: the client certificate's private key
  GATEWAY_ETCD_USERNAME        etcd user (etcd auth enabled); its password from GATEWAY_ETCD_PASSWORD_FILE or GATEWAY_ETCD_PASSWORD
  GATEWAY_ETCD_AUDIT_KEEP      audit entries the store keeps, the newest; each write removes the oldest beyond (default ${AUDIT_KEEP})`;

/** Null when GATEWAY_PLAN_STORE is unset (the file store); a ConfigError naming the variable when it is wrong. */
export function etcdSettingsFromEnv(env: NodeJS.ProcessEnv): EtcdSettings | null {
  const spec = env.GATEWAY_PLAN_STORE?.trim();
  if (!spec) return null;
  const match = /^(etcds?):\/\/([^/]+)\/([A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*)\/?$/.exec(spec);
  if (!match) {
    throw new ConfigError(`GATEWAY_PLAN_STORE=${spec} is not etcd://HOST:PORT[,HOST:PORT...]/PREFIX (e.g. etcd://127.0.0.1:2379/mythoughts; etcds:// for TLS)`);
  }
  const [, scheme, members, prefix] = match as unknown as [string, string, string, string];
  const secure = scheme === 'etcds';
  const hosts = members.split(',').map((member) => {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(member))
      throw new ConfigError(`GATEWAY_PLAN_STORE: member "${member}" is not HOST:PORT (e.g. 127.0.0.1:2379)`);
    return `${secure ? 'https' : 'http'}://${member}`;
  });
  const auditKeep = envWholeNumber(env, 'GATEWAY_ETCD_AUDIT_KEEP', AUDIT_KEEP, 1, 1_000_000);
  return { hosts, prefix, tls: secure ? tlsFrom(env) : noTls(env), auth: authFrom(env), display: spec, auditKeep };
}

function tlsFrom(env: NodeJS.ProcessEnv): EtcdSettings['tls'] {
  if (!env.GATEWAY_ETCD_CA_FILE)
    throw new ConfigError('GATEWAY_PLAN_STORE is etcds:// (TLS): set GATEWAY_ETCD_CA_FILE to the CA certificate of the etcd servers');
  if (Boolean(env.GATEWAY_ETCD_CERT_FILE) !== Boolean(env.GATEWAY_ETCD_KEY_FILE))
    throw new ConfigError('GATEWAY_ETCD_CERT_FILE and GATEWAY_ETCD_KEY_FILE go together (the client certificate and its key)');
  const ca = readSetting(env, 'GATEWAY_ETCD_CA_FILE')!;
  const cert = readSetting(env, 'GATEWAY_ETCD_CERT_FILE');
  const key = readSetting(env, 'GATEWAY_ETCD_KEY_FILE');
  return cert && key ? { ca, cert, key } : { ca };
}

function noTls(env: NodeJS.ProcessEnv): null {
  for (const name of ['GATEWAY_ETCD_CA_FILE', 'GATEWAY_ETCD_CERT_FILE', 'GATEWAY_ETCD_KEY_FILE']) {
    if (env[name]) throw new ConfigError(`${name} is set but GATEWAY_PLAN_STORE is etcd:// (plain): use etcds:// to connect with TLS`);
  }
  return null;
}

function authFrom(env: NodeJS.ProcessEnv): EtcdSettings['auth'] {
  const username = env.GATEWAY_ETCD_USERNAME;
  const password = env.GATEWAY_ETCD_PASSWORD_FILE ? readSetting(env, 'GATEWAY_ETCD_PASSWORD_FILE')!.toString('utf8').trim() : env.GATEWAY_ETCD_PASSWORD;
  if (!username && !password) return null;
  if (!username || !password)
    throw new ConfigError('GATEWAY_ETCD_USERNAME needs a password (GATEWAY_ETCD_PASSWORD_FILE or GATEWAY_ETCD_PASSWORD), and a password needs the username');
  return { username, password };
}

function readSetting(env: NodeJS.ProcessEnv, name: string): Buffer | undefined {
  const file = env[name];
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`${name}=${file} cannot be read: ${(error as Error).message}`);
  }
}
