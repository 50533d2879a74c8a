import type { Field } from '@mythoughts/shared/http/api';
import type { Thought } from '../stores/thoughtStore.ts';

/**
 * How the thoughts API reads and writes a thought (the `NewThought`, `Thought` and `NoThought`
 * schemas of openapi.yaml, which the contract suite holds to docs/api-contract.md §3).
 */

/** `text`, required, from the JSON body, the form body or the query string; its help starts the 400 message. */
export const NEW_THOUGHT_FIELDS: readonly Field[] = [{ name: 'text', help: 'Text of the thought' }];

/** `Thought.text`'s maxLength: counted in code points, as PostgreSQL's varchar(250) counts (an emoji is one). */
export const MAX_TEXT_CHARACTERS = 250;

export interface ThoughtJson {
  id: number;
  username: string;
  text: string;
  timestamp: string;
}

/** A thought as the API answers it: exactly these keys, in this order. */
export function thoughtJson(row: Thought): ThoughtJson {
  return { id: row.id, username: row.username, text: row.text, timestamp: row.timestamp };
}

/** `NoThought`: the body of a 404 for an unknown id (Flask-RESTPlus marshalled nothing). */
export const NO_THOUGHT = Object.freeze({ id: null, username: null, text: null, timestamp: null });

// The ids are PostgreSQL `serial` (int4): a larger number would be a database error, not a miss.
const MAX_ID = 2_147_483_647;

/**
 * The thought id of the `{thoughtId}` path parameter, or null when it cannot name a thought
 * (not digits, or beyond the column's range): the handlers answer those as an unknown id,
 * which is why the validator leaves the parameter to them.
 */
export function parseThoughtId(segment: string): number | null {
  if (!/^\d{1,10}$/.test(segment)) return null;
  const id = Number(segment);
  return id <= MAX_ID ? id : null;
}
