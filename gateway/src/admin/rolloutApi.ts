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
    const result = await rollout.command(req.params.route, command, whoOf(body, tokenRequired), optionalText(body.reason, 'reason', 500));
    if (!result.ok) throw new HttpProblem(result.status, result.message);
    res.json({ message: result.message, rollout: result.rollout });
  });

  api.use(answerProblem);
  return api;
}
