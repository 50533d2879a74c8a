import { Router } from 'express';
import type { ShadowFindings } from '../shadow/shadowMirror.ts';

/**
 * `GET /mismatches?route=thoughts&limit=20` on the admin port (mounted under /api/shadow):
 * the last shadow mismatches, newest first, each with the request, both answers and the
 * diff, plus the places learnt as noise per route.
 */
export function createMismatchRouter(findings: ShadowFindings): Router {
  const router = Router();
  router.get('/mismatches', (req, res) => {
    const route = typeof req.query.route === 'string' && req.query.route !== '' ? req.query.route : undefined;
    const limitText = typeof req.query.limit === 'string' ? req.query.limit : undefined;
    const limit = limitText === undefined ? undefined : Number(limitText);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
      res.status(400).json({ status: 400, message: `limit=${limitText} is not allowed: a whole number from 1 to ${findings.store.capacity}` });
      return;
    }
    res.json({
      total: findings.store.total,
      capacity: findings.store.capacity,
      mismatches: findings.store.list({ route, limit }),
      noise: findings.noise.snapshot(),
    });
  });
  return router;
}
