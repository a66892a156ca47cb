/** Paths reachable without a session; everything else is guarded by proxy.ts and again by each page. */
// /scim/v2/* carries no session: its handlers check the tenant's SCIM bearer token themselves (server/scim/http.ts).
const PUBLIC = [/^\/sign-in$/, /^\/signed-out$/, /^\/api\/auth\//, /^\/api\/healthz$/, /^\/scim\/v2(\/|$)/];

export const isPublicPath = (path: string) => PUBLIC.some((re) => re.test(path));
