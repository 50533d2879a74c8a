import { apiRoute, apiRouter } from '@mythoughts/shared/http/api';
import type { ThoughtStore } from '../stores/thoughtStore.ts';
import { parseThoughtId } from './representation.ts';

/** Mounted at `/admin` (internal): DELETE /admin/thoughts/{thoughtId}/ (deleteThought), idempotent. */
export function adminThoughtsRoutes({ thoughts }: { thoughts: ThoughtStore }) {
  const router = apiRouter();
  apiRoute(router, '/thoughts/:thoughtId/', {
    async DELETE(req, res) {
      // An unknown id, or one that is not a number, is a 204 too.
      const id = parseThoughtId(String(req.params.thoughtId));
      if (id !== null) await thoughts.delete(id);
      res.status(204).end();
    },
  });
  return router;
}
