import { ConfigError } from '@mythoughts/runtime/errors';
import { TOKEN_PLACEHOLDER } from '../shadow/recordedRequest.ts';
import type { ReplaySuite } from './suite.ts';

/** The users whose `{{token:USER}}` placeholder appears in the suite's requests. */
export function usersIn(suite: ReplaySuite): string[] {
  const users = new Set<string>();
  for (const replay of suite.cases)
    for (const value of Object.values(replay.request.headers)) for (const found of value.matchAll(TOKEN_PLACEHOLDER)) users.add(found[1]!);
  return [...users].sort();
}

/** A header value with each placeholder replaced by its user's token (every user was given one before anything is sent). */
export function fillTokens(value: string, tokens: ReadonlyMap<string, string>): string {
  return value.replace(TOKEN_PLACEHOLDER, (placeholder, user: string) => tokens.get(user) ?? placeholder);
}

/**
 * A fresh token of `username`, by logging in as the system's clients do:
 * `POST <loginUrl>/api/login/` with `{"username", "password"}`. The token is read from the
 * answer's `Authorized` (`"Bearer <jwt>"`, as MyThoughts answers), `token` or `access_token`.
 */
export async function logIn(loginUrl: string, username: string, password: string, timeoutMs: number): Promise<string> {
  const url = `${loginUrl.replace(/\/+$/, '')}/api/login/`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new ConfigError(`cannot log in as ${username}: POST ${url} failed (${cause}); is --login (or --against) the URL of a service that logs users in?`);
  }
  const text = await response.text();
  if (!response.ok) throw new ConfigError(`cannot log in as ${username}: POST ${url} answered ${response.status} ${text.slice(0, 200)}`);
  const token = tokenIn(text);
  if (token === null) throw new ConfigError(`cannot log in as ${username}: POST ${url} answered 200 without a token (Authorized, token or access_token)`);
  return token;
}

function tokenIn(text: string): string | null {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const value = [body.Authorized, body.token, body.access_token].find((candidate) => typeof candidate === 'string');
    return typeof value === 'string' ? value.replace(/^bearer\s+/i, '') : null;
  } catch {
    return null; // not JSON: no token to find
  }
}
