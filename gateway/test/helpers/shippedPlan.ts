import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GatewayOptions } from '../../src/gateway.ts';
import { startBackend, type TestBackend } from './backends.ts';
import { startTestGateway, type TestGateway } from './gateway.ts';

/** The repo's routes.yaml, as `npm start` runs it. */
export const SHIPPED_ROUTES = readFileSync(fileURLToPath(new URL('../../../routes.yaml', import.meta.url)), 'utf8');

export interface ShippedPlan {
  readonly gateway: TestGateway;
  readonly legacy: TestBackend;
  readonly users: TestBackend;
  readonly thoughts: TestBackend;
  /** Requests that reached any back end so far. */
  reached(): number;
  stop(): Promise<void>;
}

/** A gateway running the shipped routes.yaml in front of three recording test back ends. */
export async function startShippedPlan(options: Partial<GatewayOptions> = {}): Promise<ShippedPlan> {
  const [legacy, users, thoughts] = await Promise.all([startBackend('legacy'), startBackend('users'), startBackend('thoughts')]);
  const gateway = await startTestGateway(SHIPPED_ROUTES, { backendUrls: { legacy: legacy.url, users: users.url, thoughts: thoughts.url }, ...options });
  return {
    gateway,
    legacy,
    users,
    thoughts,
    reached: () => legacy.seen.length + users.seen.length + thoughts.seen.length,
    async stop() {
      await gateway.stop();
      await Promise.all([legacy.close(), users.close(), thoughts.close()]);
    },
  };
}
