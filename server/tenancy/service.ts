import "server-only";
import { and, asc, eq, isNotNull, sql } from "drizzle-orm";
import { z } from "zod";
import { aeTitles, memberships, tenantConfigs, tenants } from "@/db/schema";
import { AeTitle, TenantSlug } from "@/engine/api/contract";
import { appendAudit } from "../audit/append";
import { systemContext, type Actor, type TenantContext, type UserContext } from "../context";
import { setLocals, withSystem, withTenant, withUser } from "../db";
import { InputError, pgCode } from "../errors";
import { TENANT_ROLES, type TenantRole } from "../auth/permissions";

export const NewTenantInput = z.object({
  slug: TenantSlug,
  name: z.string().trim().min(1).max(120),
  ttlDays: z.number().int().min(1).max(30).default(7),
  calledAeTitles: z.array(AeTitle).default([]),
  allowedCallingAeTitles: z.array(AeTitle).default([]),
  members: z
    .array(z.object({ email: z.email().transform((e) => e.toLowerCase()), role: z.enum(TENANT_ROLES) }))
    .default([]),
});

/** How long an invitation waits to be taken up at its first sign-in. */
export const INVITATION_DAYS = 14;

/**
 * Creates a tenant with its desired config, AE titles and invitations in one transaction: audited in the global
 * chain (who created it, when an engineer did) and in the tenant's own. The engine gets the config through the
 * worker's reconcile. `by` is the seed's name, or the engineer who creates it (invitations then lapse).
 */
export async function createTenant(input: z.input<typeof NewTenantInput>, by: string | Actor = "seed") {
  const parsed = NewTenantInput.safeParse(input);
  if (!parsed.success) throw new InputError("Invalid tenant", z.flattenError(parsed.error).fieldErrors as Record<string, string[]>);
  const t = parsed.data;
  return withSystem(async (tx) => {
    const [created] = await tx.insert(tenants).values({ slug: t.slug, name: t.name }).onConflictDoNothing().returning();
    if (!created) throw new InputError(`A tenant with slug "${t.slug}" already exists`, { slug: ["already in use"] });
    const actor = typeof by === "string" ? systemContext(created.id, by).actor : by;
    if (typeof by !== "string") await appendAudit(tx, { tenantId: null, actor }, { action: "ops.tenant.create", target: `tenant:${t.slug}`, after: { name: t.name, ttlDays: t.ttlDays, calledAeTitles: t.calledAeTitles, members: t.members } });
    await setLocals(tx, { "app.tenant_id": created.id });
    await tx.insert(tenantConfigs).values({ tenantId: created.id, ttlDays: t.ttlDays, version: 1 });
    const titles = [
      ...t.calledAeTitles.map((aeTitle) => ({ tenantId: created.id, kind: "called" as const, aeTitle })),
      ...t.allowedCallingAeTitles.map((aeTitle) => ({ tenantId: created.id, kind: "calling" as const, aeTitle })),
    ];
    // Called AE titles are unique across tenants (an index RLS does not hide); the message names no other tenant.
    if (titles.length)
      await tx.insert(aeTitles).values(titles).catch((e) => {
        if (pgCode(e).constraint_name === "ae_titles_called_unique") throw new InputError("A called AE title already routes to another tenant.", { calledAeTitles: ["already in use by another tenant"] });
        throw e;
      });
    const expires = typeof by === "string" ? null : new Date(Date.now() + INVITATION_DAYS * 86_400_000);
    if (t.members.length) await tx.insert(memberships).values(t.members.map((m) => ({ tenantId: created.id, ...m, invitationExpiresAt: expires, invitedBy: actor.name })));
    await appendAudit(tx, { tenantId: created.id, actor }, { action: "tenant.create", target: `tenant:${t.slug}`, after: t });
    return created;
  });
}

export type MyTenant = { id: string; slug: string; name: string; roles: TenantRole[] };

/** The tenants a signed-in person is a member of, with their roles in each. */
export async function listMyTenants(user: UserContext): Promise<MyTenant[]> {
  const rows = await withUser(user, (tx) =>
    tx
      .select({ id: tenants.id, slug: tenants.slug, name: tenants.name, role: memberships.role })
      .from(memberships)
      .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
      .where(and(isNotNull(memberships.userId), eq(memberships.userId, user.userId)))
      .orderBy(asc(tenants.name)),
  );
  const byId = new Map<string, MyTenant>();
  for (const r of rows) {
    const t = byId.get(r.id) ?? { id: r.id, slug: r.slug, name: r.name, roles: [] };
    t.roles.push(r.role);
    byId.set(r.id, t);
  }
  return [...byId.values()];
}

/** The tenants registry for engineers and system tasks: metadata only, never tenant data. */
export async function listAllTenants() {
  return withSystem((tx) => tx.select().from(tenants).orderBy(asc(tenants.name)));
}

/** What the tenant overview shows: desired config, AE titles and whether the engine has applied it. */
export async function getTenantOverview(ctx: TenantContext) {
  return withTenant(ctx, async (tx) => {
    const [config] = await tx.select().from(tenantConfigs).where(eq(tenantConfigs.tenantId, ctx.tenantId));
    const titles = await tx
      .select({ kind: aeTitles.kind, aeTitle: aeTitles.aeTitle })
      .from(aeTitles)
      .where(eq(aeTitles.tenantId, ctx.tenantId))
      .orderBy(asc(aeTitles.aeTitle));
    const members = await tx
      .select({ email: memberships.email, role: memberships.role, linked: sql<boolean>`${memberships.userId} is not null` })
      .from(memberships)
      .where(eq(memberships.tenantId, ctx.tenantId))
      .orderBy(asc(memberships.email));
    return {
      config: config ?? null,
      calledAeTitles: titles.filter((t) => t.kind === "called").map((t) => t.aeTitle),
      allowedCallingAeTitles: titles.filter((t) => t.kind === "calling").map((t) => t.aeTitle),
      members,
    };
  });
}


/** Whether the tenant is suspended, for the banner its members see on every page. */
export async function getTenantSuspension(ctx: Pick<TenantContext, "tenantId" | "actor">) {
  const [t] = await withTenant(ctx, (tx) =>
    tx.select({ since: tenants.suspendedAt, reason: tenants.suspensionReason }).from(tenants).where(eq(tenants.id, ctx.tenantId)),
  );
  return t?.since ? { since: t.since, reason: t.reason ?? "" } : null;
}
