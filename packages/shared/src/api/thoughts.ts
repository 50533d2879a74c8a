import { apiRoute, apiRouter, readField, readFields, requireUser, sendJson } from '../http/api.ts';
import { NOT_FOUND_THOUGHT, parseThoughtId, THOUGHT_FIELDS, thoughtJson, thoughtTextTooLong, thoughtTooLong } from '../http/fields.ts';
import type { ThoughtStore } from '../stores/thoughts.ts';
import type { TokenVerifier } from '@mythoughts/runtime/tokens';

/*
 * The thoughts part of the public API (contract §3), written once and mounted by both the
 * monolith and the thoughts service (see users.ts for why).
 */

/** Mounted at `/api`: /api/me/thoughts/ (the caller's), /api/thoughts/ (everyone's, searchable), /api/thoughts/<id>/. */
export function thoughtsRoutes({ thoughts, verifier }: { thoughts: ThoughtStore; verifier: TokenVerifier }) {
  const router = apiRouter();

  apiRoute(router, '/me/thoughts/', {
    async GET(req, res) {
      const username = requireUser(req, verifier);
      sendJson(res, 200, (await thoughts.byUser(username)).map(thoughtJson));
    },
    async POST(req, res) {
      // The input before the token, as the original did: no text is a 400 even without a token.
      const { text } = readFields(req, THOUGHT_FIELDS) as { text: string };
      if (thoughtTextTooLong(text)) throw thoughtTooLong();
      // The author is always the token's user; a `username` field in the body is ignored.
      const username = requireUser(req, verifier);
      sendJson(res, 201, thoughtJson(await thoughts.create(username, text)));
    },
  });

  apiRoute(router, '/thoughts/', {
    async GET(req, res) {
      sendJson(res, 200, (await thoughts.search(readField(req, 'search'))).map(thoughtJson));
    },
  });

  apiRoute(router, '/thoughts/:thoughtId/', {
    async GET(req, res) {
      // An id that is not a number is just another unknown id.
      const id = parseThoughtId(String(req.params.thoughtId));
      const row = id === null ? undefined : await thoughts.get(id);
      if (!row) return sendJson(res, 404, NOT_FOUND_THOUGHT);
      sendJson(res, 200, thoughtJson(row));
    },
  });

  return router;
}

/** Mounted at `/admin` (internal): DELETE /admin/thoughts/<id>/, idempotent (an unknown id is a 204 too). */
export function thoughtAdminRoutes({ thoughts }: { thoughts: ThoughtStore }) {
  const router = apiRouter();
  apiRoute(router, '/thoughts/:thoughtId/', {
    async DELETE(req, res) {
      const id = parseThoughtId(String(req.params.thoughtId));
      if (id !== null) await thoughts.delete(id);
      res.status(204).end();
    },
  });
  return router;
}
