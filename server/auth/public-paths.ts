/** Paths reachable without a session; everything else is guarded by proxy.ts and again by each page. */
const PUBLIC = [/^\/sign-in$/, /^\/signed-out$/, /^\/api\/auth\//, /^\/api\/healthz$/];

export const isPublicPath = (path: string) => PUBLIC.some((re) => re.test(path));
