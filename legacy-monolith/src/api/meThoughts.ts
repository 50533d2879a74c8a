import { apiRoute, apiRouter, readFields, requireUser, sendJson } from '@mythoughts/shared/http/api';
import { THOUGHT_FIELDS, thoughtJson, thoughtTextTooLong, thoughtTooLong } from '@mythoughts/shared/http/fields';
import type { Monolith } from '../monolith.ts';

/** /api/me/thoughts/: the caller's thoughts, and posting a new one. */
export function meThoughtsRoutes({ thoughts, verifier }: Monolith) {
  const router = apiRouter();
  apiRoute(router, '/me/thoughts/', {
    async GET(req, res) {
      const username = requireUser(req, verifier);
      const rows = await thoughts.byUser(username);
      sendJson(res, 200, rows.map(thoughtJson));
    },
    async POST(req, res) {
      // The input is checked before the token, as the original did (and as the services'
      // OpenAPI validation does): a request without text is a 400 even with no token.
      const { text } = readFields(req, THOUGHT_FIELDS) as { text: string };
      if (thoughtTextTooLong(text)) throw thoughtTooLong();
      // The author is always the token's user; a `username` field in the body is ignored.
      const username = requireUser(req, verifier);
      const row = await thoughts.create(username, text);
      sendJson(res, 201, thoughtJson(row));
    },
  });
  return router;
}
