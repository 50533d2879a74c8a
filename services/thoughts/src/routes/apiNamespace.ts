import { apiRoute, apiRouter, readField, readFields, requireUser, sendJson } from '@mythoughts/shared/http/api';
import {
  NOT_FOUND_THOUGHT,
  parseThoughtId,
  THOUGHT_FIELDS,
  thoughtJson,
  thoughtTextTooLong,
  thoughtTooLong,
} from '@mythoughts/shared/http/fields';
import type { ThoughtStore } from '@mythoughts/shared/stores/thoughts';
import type { TokenVerifier } from '@mythoughts/shared/tokens';

/**
 * The public `api` namespace of the thoughts service, mounted at `/api`:
 * /api/me/thoughts/ (the caller's), /api/thoughts/ (everyone's, searchable), /api/thoughts/<id>/.
 */
export function apiNamespace({ thoughts, verifier }: { thoughts: ThoughtStore; verifier: TokenVerifier }) {
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
      // An id that is not a number is just another unknown id (the validator hands it on).
      const id = parseThoughtId(String(req.params.thoughtId));
      const row = id === null ? undefined : await thoughts.get(id);
      if (!row) return sendJson(res, 404, NOT_FOUND_THOUGHT);
      sendJson(res, 200, thoughtJson(row));
    },
  });

  return router;
}
