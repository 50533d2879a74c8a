import { ConfigError } from '@mythoughts/runtime/errors';
import { urlOverridesFromEnv } from '../config/validateBackends.ts';
import { connectEtcd, type EtcdConnection } from '../etcd/etcdConnection.ts';
import { etcdSettingsFromEnv } from '../etcd/etcdSettings.ts';
import { routesFileFrom } from '../env.ts';
import { openPlanStore } from '../plan/openPlanStore.ts';
import type { PlanStore } from '../plan/planStore.ts';

/**
 * Runs `work` on the plan store a command works on: GATEWAY_PLAN_STORE's etcd when it is set
 * (straight on the store: no running gateway needed), else the routes file (`--file`, else
 * GATEWAY_ROUTES, else <repo>/routes.yaml). `work` also gets the etcd connection (null on a
 * file), to read the fleet; it is closed afterwards, so the command exits.
 */
export async function withPlanStore<T>(fileFlag: string | undefined, work: (store: PlanStore, etcd: EtcdConnection | null) => Promise<T>): Promise<T> {
  const settings = etcdSettingsFromEnv(process.env);
  if (settings && fileFlag)
    throw new ConfigError(`--file ${fileFlag} names a routes file, but GATEWAY_PLAN_STORE=${settings.display} holds the plan: give only one of them`);
  const etcd = settings ? connectEtcd(settings) : null;
  try {
    return await work(openPlanStore({ file: routesFileFrom(fileFlag), urlOverride: urlOverridesFromEnv(process.env) }, etcd), etcd);
  } finally {
    etcd?.close();
  }
}
