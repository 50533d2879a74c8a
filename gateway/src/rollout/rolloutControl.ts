import type { Refusal } from '../plan/planChange.ts';
import type { RolloutView } from './rolloutView.ts';

export type RolloutCommand = 'pause' | 'resume' | 'promote' | 'abort' | 'restart';
export const ROLLOUT_COMMANDS: readonly RolloutCommand[] = ['pause', 'resume', 'promote', 'abort', 'restart'];

export type CommandResult = ({ readonly ok: true } & { readonly rollout: RolloutView; readonly message: string }) | ({ readonly ok: false } & Refusal);

/**
 * The rollouts as the admin API, the CLI and the dashboard see them: the one controller of
 * this process (a file plan), or the fleet's (etcd), wherever its leader runs.
 */
export interface RolloutControl {
  /** Every rollout, or the one of `route` (404 when it has none). */
  status(route?: string): Promise<RolloutView[] | ({ readonly ok: false } & Refusal)>;
  /** pause | resume | promote | abort | restart, by a human (CLI, admin API, dashboard). */
  command(route: string, command: RolloutCommand, who: string, reason: string | null): Promise<CommandResult>;
  /** The plan changed (or may have): a human edit pauses, an edited block restarts. */
  planChanged(): void;
  /** The admin API answers at `adminUrl` from now on: a fleet candidate campaigns with it (followers send requests there). */
  listening(adminUrl: string | null): void;
  /** Stops stepping (the work under way ends first); a fleet leader resigns, so another leads at once. */
  close(): Promise<void>;
}
