import type { FaultCase } from '../case.ts';
import { auditOf, completion, ms, rolloutOf, rolloutWrites, runFleetRollout, watchTakeover } from '../fleetRollout.ts';

/** GATEWAY_FLEET_TTL_SECONDS's default: a frozen leader is deposed once its lease runs out. */
const TTL_SECONDS = 5;
const GIVE_UP_MS = 3 * TTL_SECONDS * 1000;
/** Bound on each question to the others while the leader is frozen: a follower passes it on to the frozen leader and waits. */
const ASK_TIMEOUT_MS = 300;

/**
 * argo-rollouts#2117 on purpose: two steps into a rollout of three replicas on etcd, under load,
 * the leader is frozen (SIGSTOP) past its lease; another replica is elected and steps; then the
 * frozen one is woken (SIGCONT) still holding a controller whose check is overdue, and watched
 * until the rollout completes. Every write it tries must be refused (the store checks its
 * election key), so the figure, writes by the deposed leader that succeeded, must be 0. Each
 * rollout write in the audit names the replica whose controller wrote it (`rollout@<replica
 * id>`): the figure is the audit's entries by the frozen replica made since it was frozen (it
 * writes nothing while stopped, and once woken another replica has been elected and stepped).
 * Writes it tried and etcd refused are counted from its log. Counted as failed: a write of the
 * deposed leader that succeeded, no new leader or no step by it while the old one is frozen, and
 * runFleetRollout's (the rollout not completed, a step repeated or skipped, a failed request).
 */
export const deposedLeaderCase: FaultCase = {
  name: 'deposed-leader',
  summary:
    'the rollout leader of 3 replicas on etcd frozen (SIGSTOP) past its lease mid-rollout, then woken → its writes that succeeded, steps repeated or skipped, failed requests',
  run: ({ clients }) =>
    runFleetRollout('deposed-leader', clients, TTL_SECONDS, async ({ leader: frozen, others }) => {
      const wrong: string[] = [];
      const before = await rolloutOf(others[0]!);
      const [frozenAt, frozenSince] = [Date.now(), performance.now()];
      process.kill(frozen.process.pid, 'SIGSTOP');
      const next = await watchTakeover(others, before, frozenAt, frozenSince, GIVE_UP_MS, ASK_TIMEOUT_MS);
      if (next.nextStep === null) wrong.push(`no new leader resumed the rollout and stepped within ${GIVE_UP_MS / 1000} s of freezing the leader`);
      const wokenAt = Date.now();
      process.kill(frozen.process.pid, 'SIGCONT');
      // Watched until the rollout is over: the woken leader's overdue check runs at once, and it campaigns again.
      const awakeMs = await completion(others[0]!);
      const awake = logLines(frozen.log()).filter((line) => line.time >= wokenAt);
      const refused = awake.filter((line) => REFUSED.test(line.msg)).length;
      const steppedDown = awake.some((line) => line.msg.includes('no longer leads the rollouts'));
      const since = rolloutWrites(await auditOf(others[0]!)).filter((entry) => Date.parse(entry.time) >= frozenAt);
      const deposedWrites = since.filter((entry) => entry.who === `rollout@${frozen.id}`);
      if (deposedWrites.length > 0)
        wrong.push(
          `writes by the deposed ${frozen.id} succeeded: ${deposedWrites.map((entry) => `${entry.old.thoughts ?? 0}→${entry.new.thoughts ?? 0}`).join(', ')}`,
        );
      return {
        detail:
          `${frozen.id} frozen (SIGSTOP) at ${before?.percent ?? '?'} % (TTL ${TTL_SECONDS} s): ${next.leader?.id ?? 'nobody'} led and resumed the rollout after ${ms(next.resumed)}, stepped after ${ms(next.nextStep)}; ` +
          `woken (SIGCONT) after ${Math.round((wokenAt - frozenAt) / 100) / 10} s, watched until the rollout completed ${awakeMs === null ? '(it did not)' : `${Math.round(awakeMs / 100) / 10} s later`}: stepped down ${steppedDown ? 'yes' : 'no'}, ` +
          `${refused} of its writes refused by etcd, ${deposedWrites.length} succeeded (goal 0; ${since.length} rollout writes in the audit since the freeze)`,
        wrong,
      };
    }),
};

/** A controller's log line of a write that etcd refused because its leadership was gone (the plan's, or the progress's). */
const REFUSED =
  /was refused: not the rollout leader any more|^rollout controller: not the rollout leader any more|could not be saved \(not the rollout leader any more/;

interface LogLine {
  readonly time: number;
  readonly msg: string;
}

/** A replica's JSON log lines (pino: `time` in unix ms); lines that are not JSON are left out. */
function logLines(log: string): LogLine[] {
  return log.split('\n').flatMap((text) => {
    try {
      const line = JSON.parse(text) as Partial<LogLine>;
      return typeof line.time === 'number' && typeof line.msg === 'string' ? [line as LogLine] : [];
    } catch {
      return [];
    }
  });
}
