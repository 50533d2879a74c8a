import { Router } from 'express';
import type { RouteTable } from '../config/routeTable.ts';
import { shadowRulesView, type MismatchesPage, type ShadowRulesView } from '../shadow/mismatchStore.ts';
import type { ShadowFindings } from '../shadow/shadowMirror.ts';

/** What the mismatch API reads: the shadow's findings and the plan running now (for its rules). */
export interface MismatchSource {
  readonly findings: ShadowFindings;
  readonly table: () => RouteTable;
}

/**
 * `GET /mismatches?route=thoughts&limit=20` on the admin port (mounted under /api/shadow):
 * the last shadow mismatches, newest first, each with the request (replayable, secrets
 * redacted), both answers and the diff, plus the places learnt as noise and the comparison
 * rules of each shadowed route.
 */
export function createMismatchRouter({ findings, table }: MismatchSource): Router {
  const router = Router();
  router.get('/mismatches', (req, res) => {
    const route = typeof req.query.route === 'string' && req.query.route !== '' ? req.query.route : undefined;
    const limitText = typeof req.query.limit === 'string' ? req.query.limit : undefined;
    const limit = limitText === undefined ? undefined : Number(limitText);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      res.status(400).json({ status: 400, message: `limit=${limitText} is not allowed: a whole number from 1 to ${findings.store.capacity}` });
      return;
    }
    const rules: Record<string, ShadowRulesView> = {};
    for (const { name, shadow } of table().routes) if (shadow !== null) rules[name] = shadowRulesView(shadow);
    const page: MismatchesPage = {
      total: findings.store.total,
      capacity: findings.store.capacity,
      mismatches: findings.store.list({ route, limit }),
      noise: findings.noise.snapshot(),
      rules,
    };
    res.json(page);
  });
  return router;
}
