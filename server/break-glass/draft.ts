import "server-only";
import { decode, encode } from "next-auth/jwt";
import { z } from "zod";
import { requireEngineer } from "../auth/session";
import { authEnv } from "../env";
import { GrantRequest } from "./service";

// A grant request between submission and the step-up sign-in: sealed (encrypted and authenticated with the
// session secret, as Auth.js seals sessions), bound to the engineer, valid for ten minutes.
const SALT = "break-glass-draft";
const MAX_AGE_SECONDS = 10 * 60;
const Draft = z.object({ engineerId: z.string(), request: GrantRequest, iat: z.number() });

export function sealDraft(engineerId: string, request: GrantRequest) {
  return encode({ secret: authEnv().AUTH_SECRET, salt: SALT, maxAge: MAX_AGE_SECONDS, token: { engineerId, request, iat: Math.floor(Date.now() / 1000) } });
}

/** The sealed request, if it is this engineer's and still valid; `steppedUp` once they signed in after sealing it. */
export async function readDraft(token: string) {
  const user = await requireEngineer();
  const raw = await decode({ token, secret: authEnv().AUTH_SECRET, salt: SALT }).catch(() => null);
  const draft = Draft.safeParse(raw);
  if (!draft.success || draft.data.engineerId !== user.id) return { user, draft: null, steppedUp: false };
  return { user, draft: draft.data, steppedUp: user.authTime >= draft.data.iat };
}
