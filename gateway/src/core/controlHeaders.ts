/** The header a tester uses to ask for a backend (decide/override.ts). */
export const BACKEND_HEADER = 'x-gateway-backend';
/** The header carrying a signed override token (decide/overrideToken.ts). */
export const TOKEN_HEADER = 'x-gateway-override';
/** Marks every copy the gateway sends on the side, so back ends and their logs can tell. */
export const SHADOW_HEADER = 'x-gateway-shadow';

/**
 * The gateway's own control headers: read by the gateway, never passed on, so no back end
 * acts on what a client claims (the shadow marker included).
 */
export const CONTROL_HEADERS: readonly string[] = [BACKEND_HEADER, TOKEN_HEADER, SHADOW_HEADER];
