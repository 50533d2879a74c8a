import type { Request, Response } from 'express';
import { ApiError, clientAddress, MESSAGES, readField, readFields, sendJson, invalidField } from '@mythoughts/shared/http/api';
import { parseBearer } from '@mythoughts/runtime/tokens';
import { lockedMessage } from '../loginGuard.ts';
import type { Monolith } from '../monolith.ts';

/**
 * The JSON API the mobile app has called since the monolith's early days (contract §3), one
 * view per URL as the monolith always had them. The rows of models.ts go out as they come:
 * their columns are selected in the order the API answers them.
 */

// The columns' sizes (varchar(50), varchar(250)), counted in characters as PostgreSQL does.
const USERNAME_MAX = 50;
const TEXT_MAX = 250;
// `thoughts.id` is an int4: anything beyond it cannot name a thought.
const LARGEST_ID = 2 ** 31 - 1;

/** Logging in and creating a user both take these, read in this order (the first missing one is named). */
const CREDENTIALS = [
  { name: 'username', help: 'Username' },
  { name: 'password', help: 'Password' },
];

/** What the old serializer gave for a missing thought: every field null. */
const MISSING_THOUGHT = { id: null, username: null, text: null, timestamp: null };

const characters = (value: string) => Array.from(value).length;

export function apiViews({ models, tryLogin, signer, verifier }: Monolith) {
  /** The token's user; anything short of a valid RS256 bearer token is the standard 401. */
  function tokenUser(req: Request): string {
    const token = parseBearer(req.headers.authorization);
    const username = token === null ? null : verifier.verify(token);
    if (username === null) throw new ApiError(401, { message: MESSAGES.unauthorized });
    return username;
  }

  /** `<id>` of the URL as a thought id, or null when no thought can have it. */
  function thoughtId(req: Request): number | null {
    const raw = String(req.params.id);
    if (!/^[0-9]+$/.test(raw) || raw.length > 10 || Number(raw) > LARGEST_ID) return null;
    return Number(raw);
  }

  return {
    async login(req: Request, res: Response) {
      const { username, password } = readFields(req, CREDENTIALS) as { username: string; password: string };
      const result = await tryLogin(username, password, clientAddress(req));
      if (result.kind === 'locked') {
        throw new ApiError(429, { message: lockedMessage(result.retryAfter) }, { 'Retry-After': String(result.retryAfter) });
      }
      // The same 401 for an unknown user as for a wrong password: the API does not tell which names exist.
      if (result.kind === 'wrong') throw new ApiError(401, { message: MESSAGES.unauthorized });
      sendJson(res, 200, { Authorized: 'Bearer ' + signer.sign(username) });
    },

    async createUser(req: Request, res: Response) {
      const { username, password } = readFields(req, CREDENTIALS) as { username: string; password: string };
      if (characters(username) > USERNAME_MAX) throw invalidField('username', `Username must be at most ${USERNAME_MAX} characters`);
      const user = await models.addUser(username, password);
      if (user === undefined) throw new ApiError(409, { message: `Username "${username}" is already taken` });
      sendJson(res, 201, user);
    },

    async myThoughts(req: Request, res: Response) {
      sendJson(res, 200, await models.thoughtsOf(tokenUser(req), 'oldest first'));
    },

    async shareThought(req: Request, res: Response) {
      // The text is read (and refused) before the token is looked at, as the old view did.
      const { text } = readFields(req, [{ name: 'text', help: 'Text of the thought' }]) as { text: string };
      if (characters(text) > TEXT_MAX) throw invalidField('text', `Text of the thought must be at most ${TEXT_MAX} characters`);
      // The author is whoever the token names; a `username` sent along is not looked at.
      sendJson(res, 201, await models.addThought(tokenUser(req), text));
    },

    async allThoughts(req: Request, res: Response) {
      sendJson(res, 200, await models.searchThoughts(readField(req, 'search'), 'oldest first'));
    },

    async thoughtDetail(req: Request, res: Response) {
      const id = thoughtId(req);
      const thought = id === null ? undefined : await models.thought(id);
      sendJson(res, thought ? 200 : 404, thought ?? MISSING_THOUGHT);
    },

    async deleteThought(req: Request, res: Response) {
      const id = thoughtId(req);
      // Deleting what is not there succeeds too: the admin tools call it blindly.
      if (id !== null) await models.removeThought(id);
      res.status(204).end();
    },
  };
}
