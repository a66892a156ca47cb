import "server-only";
import { and, eq, gt, isNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import { memberships, users } from "@/db/schema";
import { appendAudit } from "../audit/append";
import { db } from "../db";

/** The ID-token claims the console relies on; anything else the IdP sends is ignored. */
export const IdTokenClaims = z.object({
  iss: z.string().min(1),
  sub: z.string().min(1),
  email: z.email(),
  email_verified: z.boolean().optional(),
  name: z.string().optional(),
  preferred_username: z.string().optional(),
  groups: z.array(z.string()).optional(),
  auth_time: z.number().int().optional(),
});
export type IdTokenClaims = z.infer<typeof IdTokenClaims>;

/**
 * Engineers are the members of the IdP's engineer group; for an identity provider that sends no group claim, the
 * first engineers of a deployment are named by verified e-mail in configuration (never a default password).
 */
export function isEngineerClaims(claims: IdTokenClaims, env: { AUTH_ENGINEER_GROUP: string; AUTH_BOOTSTRAP_ENGINEERS: string[] }) {
  if (claims.groups?.includes(env.AUTH_ENGINEER_GROUP)) return true;
  return claims.email_verified === true && env.AUTH_BOOTSTRAP_ENGINEERS.includes(claims.email.toLowerCase());
}

/**
 * Records a sign-in: creates or refreshes the user for (issuer, subject) and, when the IdP says the e-mail is
 * verified, attaches the invitations (memberships) addressed to that e-mail. Audited in the global chain.
 */
export async function recordSignIn(claims: IdTokenClaims, isEngineer: boolean) {
  const email = claims.email.toLowerCase();
  const name = claims.name ?? claims.preferred_username ?? email;
  return db().transaction(async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({ issuer: claims.iss, subject: claims.sub, email, name })
      .onConflictDoUpdate({
        target: [users.issuer, users.subject],
        set: { email, name, lastSignInAt: sql`now()` },
      })
      .returning();
    if (!user) throw new Error("user upsert returned nothing");
    await tx.execute(sql`select set_config('app.user_id', ${user.id}, true), set_config('app.user_email', ${email}, true)`);
    let linked: { tenantId: string; role: string }[] = [];
    if (claims.email_verified === true) {
      linked = await tx
        .update(memberships)
        .set({ userId: user.id })
        // An invitation that lapsed is not taken up: the admin invites again.
        .where(and(eq(memberships.email, email), isNull(memberships.userId), or(isNull(memberships.invitationExpiresAt), gt(memberships.invitationExpiresAt, sql`now()`))))
        .returning({ tenantId: memberships.tenantId, role: memberships.role });
    }
    const actor = { userId: user.id, name, email, roles: isEngineer ? ["engineer"] : [] };
    await appendAudit(tx, { tenantId: null, actor }, {
      action: "auth.sign_in",
      target: `user:${user.id}`,
      after: { issuer: claims.iss, emailVerified: claims.email_verified === true, isEngineer, linkedMemberships: linked.length },
    });
    for (const m of linked) {
      await tx.execute(sql`select set_config('app.tenant_id', ${m.tenantId}, true)`);
      await appendAudit(tx, { tenantId: m.tenantId, actor }, {
        action: "membership.link",
        target: `user:${user.id}`,
        after: { email, role: m.role },
      });
    }
    return user;
  });
}
