import { ApiError, invalidField, type Field } from './api.ts';
import { MAX_THOUGHT_LENGTH, type Thought } from '../stores/thoughts.ts';

/**
 * The API's input fields and the JSON shape of a thought, defined once: the "<what it is>"
 * part of a 400 message and the key order of a thought must be byte-identical in the
 * monolith and in the new services, or the gateway cannot move traffic between them.
 */

export const LOGIN_FIELDS: readonly Field[] = [
  { name: 'username', help: 'Username' },
  { name: 'password', help: 'Password' },
];

export const NEW_USER_FIELDS: readonly Field[] = [
  { name: 'username', help: 'Username' },
  { name: 'password', help: 'Password' },
];

/** The `users.username` column's length: longer names are a 400, not a database error. */
export const MAX_USERNAME_LENGTH = 50;

export function usernameTooLong(): ApiError {
  return invalidField('username', `Username must be at most ${MAX_USERNAME_LENGTH} characters`);
}

/** The 409 for POST /admin/users/ with a taken username. */
export function usernameTaken(username: string): ApiError {
  return new ApiError(409, { message: `Username "${username}" is already taken` });
}

/** The words of a throttled login, on the API and the HTML site alike. */
function loginThrottledMessage(retryAfterSeconds: number): string {
  return `Too many failed logins for this username or from this address: try again in ${retryAfterSeconds} seconds`;
}

/** The 429 for POST /api/login/ while the username or the address is locked (stores/loginThrottle.ts). */
export function loginThrottled(retryAfterSeconds: number): ApiError {
  return new ApiError(429, { message: loginThrottledMessage(retryAfterSeconds) }, { 'Retry-After': String(retryAfterSeconds) });
}

export const THOUGHT_FIELDS: readonly Field[] = [{ name: 'text', help: 'Text of the thought' }];

/**
 * True when the text has more characters than the column holds. Counted in code points, as
 * PostgreSQL's varchar(250) and OpenAPI's maxLength count them (not UTF-16 units, so an
 * emoji is one character).
 */
export function thoughtTextTooLong(text: string): boolean {
  return [...text].length > MAX_THOUGHT_LENGTH;
}

/** The 400 for a text longer than the column allows (the same on SQLite and PostgreSQL). */
export function thoughtTooLong(): ApiError {
  return invalidField('text', `Text of the thought must be at most ${MAX_THOUGHT_LENGTH} characters`);
}

export interface ThoughtJson {
  id: number;
  username: string;
  text: string;
  timestamp: string;
}

/** A thought as the API returns it: exactly these keys, in this order. */
export function thoughtJson(row: Thought): ThoughtJson {
  return { id: row.id, username: row.username, text: row.text, timestamp: row.timestamp };
}

/** The body of GET /api/thoughts/<id>/ for an unknown id (Flask-RESTPlus marshalled None). */
export const NOT_FOUND_THOUGHT = Object.freeze({ id: null, username: null, text: null, timestamp: null });

// The ids are PostgreSQL `serial` (int4): a larger number would be a database error, not a miss.
const MAX_ID = 2_147_483_647;

/**
 * The thought id of a path segment, or null when it cannot name a thought (not digits, or
 * beyond the column's range): callers answer those as an unknown id.
 */
export function parseThoughtId(segment: string): number | null {
  if (!/^\d{1,10}$/.test(segment)) return null;
  const id = Number(segment);
  return id <= MAX_ID ? id : null;
}
