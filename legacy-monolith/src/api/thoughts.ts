import { apiRoute, apiRouter, readField, sendJson } from '@mythoughts/shared/http/api';
import { NOT_FOUND_THOUGHT, parseThoughtId, thoughtJson } from '@mythoughts/shared/http/fields';
import type { Monolith } from '../monolith.ts';

/** /api/thoughts/: everyone's thoughts, searchable, and one thought by id. */
export function thoughtsRoutes({ thoughts }: Monolith) {
  const router = apiRouter();
  apiRoute(router, '/thoughts/', {
    async GET(req, res) {
      const rows = await thoughts.search(readField(req, 'search'));
      sendJson(res, 200, rows.map(thoughtJson));
    },
  });
  apiRoute(router, '/thoughts/:id/', {
    async GET(req, res) {
      const id = parseThoughtId(String(req.params.id));
      const row = id === null ? undefined : await thoughts.get(id);
      if (!row) return sendJson(res, 404, NOT_FOUND_THOUGHT);
      sendJson(res, 200, thoughtJson(row));
    },
  });
  return router;
}
