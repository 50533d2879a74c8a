import { startStandIn, type StandIn } from '../../gateway/test/helpers/standInService.ts';
import { startSystem, type MyThoughtsSystem } from './system.ts';

/** The back ends of a rollout test: the real monolith and thoughts service, and the switchable stand-in in front of the latter. */
export interface RolloutBackends {
  readonly system: MyThoughtsSystem;
  /** The "new" thoughts backend the rollout moves traffic to: a relay to the real service until switched. */
  readonly standIn: StandIn;
  stop(): Promise<void>;
}

export async function startRolloutBackends(): Promise<RolloutBackends> {
  const system = await startSystem('sqlite');
  const standIn = await startStandIn(system.thoughtsUrl);
  return {
    system,
    standIn,
    async stop() {
      await standIn.close();
      await system.stop();
    },
  };
}

export interface RolloutPlanOptions {
  /** The rollout: block's settings, as the inside of a YAML flow map: `steps: [5, 25], interval_seconds: 1`. */
  readonly rollout: string;
  /** The new backend's share routes.yaml starts at. Default 0. */
  readonly split?: number;
  /** Every request shadowed to the new backend, for the parity gate. Default true. */
  readonly shadow?: boolean;
  /** The plan's `outlier:` map. Default ejection off (`consecutive_failures: 0`), so every failure reaches the new backend's attempts. */
  readonly outlier?: string;
}

/**
 * routes.yaml with the thoughts API under rollout from the monolith to the stand-in (every
 * request shadowed to it, for the parity gate, unless `shadow: false`) and outlier ejection
 * off unless `outlier` says otherwise. The split line ends in `# moved by the rollout`: the rollout's
 * writes must keep it.
 */
export function rolloutPlan(
  { system, standIn }: Pick<RolloutBackends, 'system' | 'standIn'>,
  { rollout, split = 0, shadow = true, outlier = 'consecutive_failures: 0' }: RolloutPlanOptions,
): string {
  return `backends:
  legacy:   { url: ${system.legacyUrl}, legacy: true }
  thoughts: { url: ${standIn.url} }
outlier: { ${outlier} }
routes:
  - { name: internal, match: { path: [/admin/**, /metrics] }, deny: 404 }
  - name: thoughts
    match: { path: /api/thoughts/** }
    group: thoughts
    split: { thoughts: ${split} }   # moved by the rollout
    fallback: legacy${shadow ? '\n    shadow: { to: thoughts, percent: 100, noise_percent: 0 }' : ''}
    rollout: { ${rollout} }
  - { name: site, match: { path: /** }, split: {} }
`;
}

/** The new backend's percent in a rolloutPlan's text as it is now (the comment on the line must stay). */
export function percentInPlan(text: string): number {
  const match = /split: \{ thoughts: ([\d.]+) \} {3}# moved by the rollout/.exec(text);
  if (!match) throw new Error(`routes.yaml lost its split line or its comment:\n${text}`);
  return Number(match[1]);
}
