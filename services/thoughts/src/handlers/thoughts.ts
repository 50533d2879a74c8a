import { apiRoute, apiRouter, readField, sendJson } from '@mythoughts/shared/http/api';
import type { ThoughtStore } from '../stores/thoughtStore.ts';
import { NO_THOUGHT, parseThoughtId, thoughtJson } from './representation.ts';

/** `/api/thoughts/` (searchThoughts) and `/api/thoughts/{thoughtId}/` (getThought): everyone's thoughts. */
export function thoughtsRoutes({ thoughts }: { thoughts: ThoughtStore }) {
  const router = apiRouter();
  apiRoute(router, '/thoughts/', {
    async GET(req, res) {
      // The term as sent; the monolith strips it first (a known difference, contract §5).
      sendJson(res, 200, (await thoughts.search(readField(req, 'search'))).map(thoughtJson));
    },
  });
  apiRoute(router, '/thoughts/:thoughtId/', {
    async GET(req, res) {
      // An id that is not a number is just another unknown id.
      const id = parseThoughtId(String(req.params.thoughtId));
      const row = id === null ? undefined : await thoughts.get(id);
      if (!row) return sendJson(res, 404, NO_THOUGHT);
      sendJson(res, 200, thoughtJson(row));
    },
  });
  return router;
}
