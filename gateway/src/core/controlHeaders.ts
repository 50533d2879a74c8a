/**
 * The gateway's own control headers. decide/ reads the first two and shadow/ sets the third;
 * forward/ strips all of them from every request it passes on, so no back end acts on what
 * a client claims.
 */

/** The header a tester uses to ask for a backend. */
export const BACKEND_HEADER = 'x-gateway-backend';
/** The header carrying a signed override token (see decide/overrideToken.ts). */
export const TOKEN_HEADER = 'x-gateway-override';
/** Marks every copy the gateway sends on the side, so back ends and their logs can tell. */
export const SHADOW_HEADER = 'x-gateway-shadow';

export const CONTROL_HEADERS: readonly string[] = [BACKEND_HEADER, TOKEN_HEADER, SHADOW_HEADER];
