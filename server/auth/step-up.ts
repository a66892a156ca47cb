import "server-only";
import { authEnv } from "../env";
import { StepUpRequiredError } from "../errors";
import type { SignedInUser } from "./session";

/**
 * Step-up: a verb that needs a fresh sign-in calls requireFreshAuth, and its page links to /reauth while the IdP's
 * `auth_time` is older than the window. /reauth signs in again with prompt=login and max_age=0, so the IdP asks
 * for credentials even if it has a session, and then comes back to `returnTo`.
 */
export function isRecentAuth(authTime: number | undefined, maxAgeSeconds: number, now = Date.now()) {
  if (!authTime) return false;
  return now / 1000 - authTime <= maxAgeSeconds;
}

export function reauthUrl(returnTo: string) {
  return `/reauth?callbackUrl=${encodeURIComponent(returnTo)}`;
}

/** A signature's precondition in a verb (not a page): a sign-in within the step-up window, else StepUpRequiredError. */
export function requireFreshAuth(user: Pick<SignedInUser, "authTime">) {
  const max = authEnv().AUTH_STEP_UP_MAX_AGE_SECONDS;
  if (!isRecentAuth(user.authTime, max)) throw new StepUpRequiredError(max);
}
