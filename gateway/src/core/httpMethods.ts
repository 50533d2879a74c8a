/** The methods a route, a shadow rule or `gateway compare` may name. */
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Methods that change nothing on the server (RFC 9110 §9.2.1): the ones that may be sent
 * twice, to a fallback after a failure or as a shadow copy, without a second write.
 */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
