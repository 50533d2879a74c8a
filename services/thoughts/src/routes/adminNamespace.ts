import { apiRoute, apiRouter } from '@mythoughts/shared/http/api';
import { parseThoughtId } from '@mythoughts/shared/http/fields';
import type { ThoughtStore } from '@mythoughts/shared/stores/thoughts';

/**
 * The internal `admin` namespace of the thoughts service, mounted at `/admin`:
 * DELETE /admin/thoughts/<id>/. No auth of its own; the gateway keeps `/admin` off the public port.
 */
export function adminNamespace({ thoughts }: { thoughts: ThoughtStore }) {
  const router = apiRouter();
  apiRoute(router, '/thoughts/:thoughtId/', {
    async DELETE(req, res) {
      // Idempotent: an unknown id, or one that is not a number, is a 204 too.
      const id = parseThoughtId(String(req.params.thoughtId));
      if (id !== null) await thoughts.delete(id);
      res.status(204).end();
    },
  });
  return router;
}
