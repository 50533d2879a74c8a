import { apiRoute, apiRouter } from '@mythoughts/shared/http/api';
import { parseThoughtId } from '@mythoughts/shared/http/fields';
import type { Monolith } from '../monolith.ts';

/** DELETE /admin/thoughts/<id>/: idempotent, so an unknown id is a 204 too. */
export function adminThoughtsRoutes({ thoughts }: Monolith) {
  const router = apiRouter();
  apiRoute(router, '/thoughts/:id/', {
    async DELETE(req, res) {
      const id = parseThoughtId(String(req.params.id));
      if (id !== null) await thoughts.delete(id);
      res.status(204).end();
    },
  });
  return router;
}
