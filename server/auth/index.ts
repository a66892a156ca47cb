import "server-only";
import { randomUUID } from "node:crypto";
import NextAuth, { type NextAuthConfig } from "next-auth";
import { authEnv } from "../env";
import { SESSION_MAX_AGE_SECONDS, sessionStillValid } from "./ended-sessions";
import { isPublicPath } from "./public-paths";
import { IdTokenClaims, isEngineerClaims, recordSignIn } from "./sign-in";

export const OIDC_PROVIDER_ID = "oidc";


declare module "next-auth" {
  interface Session {
    user: { id: string; name: string; email: string; isEngineer: boolean; authTime: number };
  }
}

// Lazy: the environment is read per request, so `next build` needs no secrets.
export const { handlers, auth, signIn, signOut } = NextAuth(() => {
  const env = authEnv();
  const config: NextAuthConfig = {
    secret: env.AUTH_SECRET,
    trustHost: true,
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: "/sign-in", error: "/sign-in" },
    providers: [
      {
        id: OIDC_PROVIDER_ID,
        name: "your organization's identity provider",
        type: "oidc",
        issuer: env.AUTH_OIDC_ISSUER,
        clientId: env.AUTH_OIDC_CLIENT_ID,
        clientSecret: env.AUTH_OIDC_CLIENT_SECRET,
        checks: ["pkce", "state", "nonce"],
        authorization: { params: { scope: "openid email profile groups" } },
      },
    ],
    callbacks: {
      // The route guard used by proxy.ts. It must answer with a Response: when proxy.ts wraps a handler,
      // next-auth ignores a plain `false` and runs the handler anyway.
      authorized({ auth, request }) {
        const { pathname, search } = request.nextUrl;
        if (isPublicPath(pathname) || auth?.user?.id) return true;
        if (pathname.startsWith("/api/")) {
          return Response.json({ error: "unauthorized", message: "Sign in first." }, { status: 401 });
        }
        const signInUrl = new URL("/sign-in", request.nextUrl);
        signInUrl.searchParams.set("callbackUrl", pathname + search);
        return Response.redirect(signInUrl, 307);
      },
      async jwt({ token, account, profile }) {
        if (account && profile) {
          const claims = IdTokenClaims.parse(profile);
          const isEngineer = isEngineerClaims(claims, env);
          const user = await recordSignIn(claims, isEngineer);
          return {
            ...token,
            // The session's own id, which signing out records as ended (ended-sessions.ts).
            sid: randomUUID(),
            // When the session began (ms): deprovisioning ends every session begun before it (users.sessions_revoked_at).
            startedAt: Date.now(),
            uid: user.id,
            name: user.name,
            email: user.email,
            isEngineer,
            authTime: claims.auth_time ?? Math.floor(Date.now() / 1000),
            idToken: account.id_token,
          };
        }
        // A session ended by signing out, or by deprovisioning the person (SCIM), stays ended, whatever cookie a
        // request brings back; null clears it. A token without an id predates ended sessions and is treated the same.
        if (typeof token.sid !== "string" || !(await sessionStillValid(token))) return null;
        return token;
      },
      session({ session, token }) {
        session.user = {
          ...session.user,
          id: String(token.uid ?? ""),
          name: String(token.name ?? ""),
          email: String(token.email ?? ""),
          isEngineer: token.isEngineer === true,
          authTime: Number(token.authTime ?? 0),
        };
        return session;
      },
    },
  };
  return config;
});
