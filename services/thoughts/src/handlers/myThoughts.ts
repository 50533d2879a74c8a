import { apiRoute, apiRouter, invalidField, readFields, requireUser, sendJson } from '@mythoughts/shared/http/api';
import type { TokenVerifier } from '@mythoughts/runtime/tokens';
import type { ThoughtStore } from '../stores/thoughtStore.ts';
import { MAX_TEXT_CHARACTERS, NEW_THOUGHT_FIELDS, thoughtJson } from './representation.ts';

/** `/api/me/thoughts/` (operations listMyThoughts and createThought): the caller's thoughts, and sharing one. */
export function myThoughtsRoutes({ thoughts, verifier }: { thoughts: ThoughtStore; verifier: TokenVerifier }) {
  const router = apiRouter();
  apiRoute(router, '/me/thoughts/', {
    async GET(req, res) {
      const username = requireUser(req, verifier);
      sendJson(res, 200, (await thoughts.byUser(username)).map(thoughtJson));
    },
    async POST(req, res) {
      // The input before the token, as the monolith does: no text is a 400 even without a token.
      const { text } = readFields(req, NEW_THOUGHT_FIELDS) as { text: string };
      if ([...text].length > MAX_TEXT_CHARACTERS) {
        throw invalidField('text', `Text of the thought must be at most ${MAX_TEXT_CHARACTERS} characters`);
      }
      // The author is always the token's user; a `username` field in the body is ignored.
      const username = requireUser(req, verifier);
      sendJson(res, 201, thoughtJson(await thoughts.create(username, text)));
    },
  });
  return router;
}
