import "server-only";

/**
 * Step-up: an action that needs a fresh sign-in calls requireRecentAuth; when the IdP's `auth_time` is older
 * than the window, the caller sends the person to /reauth, which signs in again with prompt=login and
 * max_age=0 so the IdP asks for credentials even if it has a session.
 */
export function isRecentAuth(authTime: number | undefined, maxAgeSeconds: number, now = Date.now()) {
  if (!authTime) return false;
  return now / 1000 - authTime <= maxAgeSeconds;
}

export function reauthUrl(returnTo: string) {
  return `/reauth?callbackUrl=${encodeURIComponent(returnTo)}`;
}
