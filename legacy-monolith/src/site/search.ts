import type { Router } from 'express';
import type { Monolith } from '../monolith.ts';
import type { Render } from './views.ts';

/** GET /search: everyone's thoughts containing the term, newest first; no term lists all. */
export function addSearchRoutes(router: Router, { models }: Monolith, render: Render): void {
  router.get('/search', async (req, res) => {
    const term = typeof req.query.search === 'string' ? req.query.search : undefined;
    const rows = await models.searchThoughts(term, 'newest first');
    render(res, 'search.njk', { thoughts: rows });
  });
}
