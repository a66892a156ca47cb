"use server";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { getToken } from "next-auth/jwt";
import { appendAudit } from "../audit/append";
import { db } from "../db";
import { authEnv } from "../env";
import { markSessionEnded } from "./ended-sessions";
import { OIDC_PROVIDER_ID, auth, signIn, signOut } from "./index";

/** Only same-site paths: an open redirect after sign-in would be a phishing aid. */
function safeReturnPath(value: FormDataEntryValue | null) {
  const s = typeof value === "string" ? value : "";
  return s.startsWith("/") && !s.startsWith("//") && !s.startsWith("/\\") ? s : "/";
}

export async function signInAction(formData: FormData) {
  await signIn(OIDC_PROVIDER_ID, { redirectTo: safeReturnPath(formData.get("callbackUrl")) });
}

/** Step-up: the IdP must ask for credentials again even when it has a session. */
export async function reauthenticateAction(formData: FormData) {
  await signIn(
    OIDC_PROVIDER_ID,
    { redirectTo: safeReturnPath(formData.get("callbackUrl")) },
    { prompt: "login", max_age: "0" },
  );
}

/** Ends the console session, then the IdP's (RP-initiated logout), so the next sign-in asks for credentials. */
export async function signOutAction() {
  const env = authEnv();
  const session = await auth();
  const token = await getToken({
    req: { headers: await headers() },
    secret: env.AUTH_SECRET,
    secureCookie: env.AUTH_URL.startsWith("https://"),
  });
  if (session?.user?.id) {
    const u = session.user;
    const sid = typeof token?.sid === "string" ? token.sid : null;
    await db().transaction(async (tx) => {
      // Kept on the server: a request still in flight would otherwise bring the cookie back.
      if (sid) await markSessionEnded(tx, { sid, userId: u.id });
      await appendAudit(tx, { tenantId: null, actor: { userId: u.id, name: u.name, email: u.email, roles: [] } }, {
        action: "auth.sign_out",
        target: `user:${u.id}`,
      });
    });
  }
  await signOut({ redirect: false });
  const endSession = await endSessionEndpoint(env.AUTH_OIDC_ISSUER);
  if (!endSession) redirect("/signed-out");
  const url = new URL(endSession);
  if (typeof token?.idToken === "string") url.searchParams.set("id_token_hint", token.idToken);
  url.searchParams.set("client_id", env.AUTH_OIDC_CLIENT_ID);
  url.searchParams.set("post_logout_redirect_uri", new URL("/signed-out", env.AUTH_URL).toString());
  redirect(url.toString());
}

let discovered: { issuer: string; endSession: string | null } | undefined;

async function endSessionEndpoint(issuer: string) {
  if (discovered?.issuer === issuer) return discovered.endSession;
  try {
    const res = await fetch(new URL(".well-known/openid-configuration", issuer.endsWith("/") ? issuer : `${issuer}/`));
    const doc = (await res.json()) as { end_session_endpoint?: string };
    discovered = { issuer, endSession: doc.end_session_endpoint ?? null };
  } catch {
    return null;
  }
  return discovered.endSession;
}
