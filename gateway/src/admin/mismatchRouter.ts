import { Router } from 'express';
import type { FleetView } from '../fleet/fleetView.ts';
import { findingsReport } from '../shadow/findingsReport.ts';
import { fromFleet, type HttpProblem } from './opsApi.ts';
import type { ShadowFindings } from '../shadow/shadowMirror.ts';

/**
 * `GET /mismatches?route=thoughts&limit=20` on the admin port (mounted under /api/shadow):
 * the last shadow mismatches, newest first, each with the request, both answers and the
 * diff, plus the places learnt as noise per route. With a fleet: every live replica's last
 * mismatches (each naming its replica), totals summed.
 */
export function createMismatchRouter(findings: ShadowFindings, fleet: FleetView | null = null): Router {
  const router = Router();
  router.get('/mismatches', (req, res) => {
    const route = typeof req.query.route === 'string' && req.query.route !== '' ? req.query.route : undefined;
    const limitText = typeof req.query.limit === 'string' ? req.query.limit : undefined;
    const limit = limitText === undefined ? undefined : Number(limitText);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      res.status(400).json({ status: 400, message: `limit=${limitText} is not allowed: a whole number from 1 to ${findings.store.capacity}` });
      return;
    }
    const query = { route, limit };
    if (fleet)
      fromFleet(fleet.findings(query)).then(
        (report) => res.json(report),
        (problem: HttpProblem) => res.status(problem.status).json({ status: problem.status, message: problem.message }),
      );
    else res.json(findingsReport(findings, query));
  });
  return router;
}
