import express, { Router } from 'express';
import { ROLLOUT_COMMANDS, type RolloutCommand, type RolloutControl } from '../rollout/rolloutControl.ts';
import { answerProblem, bodyOf, HttpProblem, optionalText, refuseCrossSiteWrites, whoOf } from './opsApi.ts';

/**
 * The rollout on the admin API (/api/rollout), what `gateway rollout` and the dashboard use:
 * every rollout's status, and pause / resume / promote / abort / restart of one route.
 */
export function createRolloutApi(rollout: RolloutControl, tokenRequired: boolean): Router {
  const api = Router();
  api.use(refuseCrossSiteWrites);
  api.use(express.json({ limit: '16kb' }));

  api.get('/', async (_req, res) => {
    const status = await rollout.status();
    if (!Array.isArray(status)) throw new HttpProblem(status.status, status.message);
    res.json({ rollouts: status });
  });

  api.get('/:route', async (req, res) => {
    const status = await rollout.status(req.params.route);
    if (!Array.isArray(status)) throw new HttpProblem(status.status, status.message);
    res.json(status[0]);
  });

  api.post('/:route/:command', async (req, res) => {
    const command = req.params.command as RolloutCommand;
    if (!ROLLOUT_COMMANDS.includes(command)) throw new HttpProblem(404, `no rollout command '${req.params.command}': ${ROLLOUT_COMMANDS.join(', ')}`);
    const body = bodyOf(req);
    const result = await rollout.command(req.params.route, command, commandWho(body, tokenRequired), optionalText(body.reason, 'reason', 500));
    if (!result.ok) throw new HttpProblem(result.status, result.message);
    res.json({ message: result.message, rollout: result.rollout });
  });

  api.use(answerProblem);
  return api;
}

/**
 * The audit's "who" of a command. One a follower passes on to the fleet's leader
 * (`passedOnBy`: the follower's replica id) already says how the human got in, marked by the
 * follower that let them in; the leader names that follower rather than marking it again,
 * which would only say how the follower reached it: "ops (loopback admin) through r2" ("through",
 * since the history shows the entry's channel after "via": "… through r2 via rollout"). The
 * pass-on itself passed this admin port's check (its token, or loopback), as any caller does.
 */
function commandWho(body: Record<string, unknown>, tokenRequired: boolean): string {
  const follower = optionalText(body.passedOnBy, 'passedOnBy', 80);
  if (follower === null) return whoOf(body, tokenRequired);
  const who = optionalText(body.by, 'by', 120);
  if (who === null) throw new HttpProblem(400, `a command passed on by ${follower} must say who asked it (by)`);
  return `${who} through ${follower}`;
}
