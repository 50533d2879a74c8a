import { createHash } from 'node:crypto';
import { COHORT_COOKIE, CohortCookies } from '../../src/decide/cohortCookie.ts';

/** The gw_cohort secret every test gateway uses (startTestGateway's default), so tests can name clients. */
export const TEST_COHORT_SECRET = 'test-cohort-secret-0123456789abcdef';

/**
 * `gw_cohort=<id>.<mac>` for the client called `name`, as a test gateway would have issued
 * it: the same name always gives the same id (hence the same side), a different one another.
 */
export function cohortCookie(name: string, secret = TEST_COHORT_SECRET): string {
  return `${COHORT_COOKIE}=${new CohortCookies(secret).valueFor(cohortId(name))}`;
}

/** The client id (the cohort key the gateway hashes) inside `cohortCookie(name)`. */
export function cohortId(name: string): string {
  return createHash('sha256').update(name).digest().subarray(0, 12).toString('base64url');
}
