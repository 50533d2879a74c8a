import { Router } from 'express';
import type { RouteTable } from '../config/routeTable.ts';
import type { FleetView } from '../fleet/fleetView.ts';
import { findingsReport, type FindingsReport, type MismatchesPage } from '../shadow/findingsReport.ts';
import { shadowRulesView, type ShadowRulesView } from '../shadow/mismatchStore.ts';
import { fromFleet, type HttpProblem } from './opsApi.ts';
import type { ShadowFindings } from '../shadow/shadowMirror.ts';

/**
 * `GET /mismatches?route=thoughts&limit=20` on the admin port (mounted under /api/shadow):
 * the last shadow mismatches, newest first, each with the request (replayable, secrets
 * redacted), both answers and the diff, plus the places learnt as noise per route and the
 * comparison rules of each route the running plan (`table`) shadows. With a fleet: every
 * live replica's last mismatches (each naming its replica), totals summed.
 */
export function createMismatchRouter(findings: ShadowFindings, table: (() => RouteTable) | null, fleet: FleetView | null = null): Router {
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
    const answer = (report: FindingsReport) => {
      const rules: Record<string, ShadowRulesView> = {};
      for (const { name, shadow } of table?.().routes ?? []) if (shadow !== null) rules[name] = shadowRulesView(shadow);
      const page: MismatchesPage = { ...report, rules };
      res.json(page);
    };
    if (fleet)
      fromFleet(fleet.findings(query)).then(answer, (problem: HttpProblem) =>
        res.status(problem.status).json({ status: problem.status, message: problem.message }),
      );
    else answer(findingsReport(findings, query));
  });
  return router;
}
