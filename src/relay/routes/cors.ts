/** CORS: the headers every ingest answer carries, and the preflight (`OPTIONS`) answer. */

/**
 * CORS headers for an answer to `origin`; `Retry-After` is exposed so that a cross-origin page's
 * outbox can honour it.
 */
export const corsHeaders = (origin: string | null, allowed: boolean): Record<string, string> =>
  origin && allowed
    ? {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Expose-Headers': 'Retry-After',
        Vary: 'Origin',
      }
    : { Vary: 'Origin' };

/** True when `origin` may send to some site of this relay (`*` in any site's origins: every origin). */
export const originAllowed = (allOrigins: Set<string>, origin: string | null): boolean =>
  !origin || allOrigins.has('*') || allOrigins.has(origin);

/** The preflight answer on any path: 204 for an origin some site allows, 403 otherwise. */
export const preflight = (allOrigins: Set<string>, request: Request): Response => {
  const origin = request.headers.get('origin');
  const allowed = !!origin && originAllowed(allOrigins, origin);
  return new Response(null, {
    status: allowed ? 204 : 403,
    headers: {
      ...corsHeaders(origin, allowed),
      'Access-Control-Allow-Methods': 'POST, GET, OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type',
      'Access-Control-Max-Age': '86400',
    },
  });
};
