import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RecentResults } from '../core/recentResults.ts';

export const COHORT_COOKIE = 'gw_cohort';

/** 12 random bytes: 16 base64url characters of client id. */
const ID = /^[A-Za-z0-9_-]{16}$/;
/** `<16-character id>.<22-character MAC>` (16 bytes in base64url). */
const VALUE_LENGTH = 16 + 1 + 22;

/**
 * The gateway's own cohort cookie, `gw_cohort=<id>.<mac>`: a random client id and an
 * HMAC-SHA256 of it (first 16 bytes) under GATEWAY_COHORT_SECRET. The id alone picks the
 * bucket, and only an id the gateway issued verifies, so a client cannot choose its side by
 * writing `gw_cohort=k6` (or by trying ids until one lands on the new backend); a forged or
 * unsigned value is treated as no cookie and replaced by a newly issued one. Replicas that
 * share the secret accept each other's cookies.
 */
export class CohortCookies {
  private readonly secret: Buffer;
  /** Cookie value → its id (or null: forged): an HMAC per distinct cookie, not per request. */
  private readonly verified = new RecentResults<string | null>();
  private readonly verify = (value: string): string | null => this.check(value);

  constructor(secret: string) {
    this.secret = Buffer.from(secret, 'utf8');
  }

  /** A new client id and the Set-Cookie header that makes the browser keep it (one year). */
  issue(): { id: string; header: string } {
    const id = randomBytes(12).toString('base64url');
    return { id, header: `${COHORT_COOKIE}=${id}.${this.mac(id)}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax` };
  }

  /** The client id of a cookie value this gateway (or a replica with the same secret) issued; null otherwise. */
  idOf(value: string): string | null {
    // Only a value of the issued length is worth a check, and only such values are kept (bounded memory).
    return value.length === VALUE_LENGTH ? this.verified.get(value, this.verify) : null;
  }

  private check(value: string): string | null {
    const dot = value.indexOf('.');
    if (dot !== 16) return null;
    const id = value.slice(0, dot);
    if (!ID.test(id)) return null;
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.mac(id));
    return given.length === expected.length && timingSafeEqual(given, expected) ? id : null;
  }

  /** `gw_cohort=<value>` for a given id, as the gateway would issue it (tests and load generators holding the secret). */
  valueFor(id: string): string {
    return `${id}.${this.mac(id)}`;
  }

  private mac(id: string): string {
    return createHmac('sha256', this.secret).update(`gwc1.${id}`).digest().subarray(0, 16).toString('base64url');
  }
}
