import "server-only";
import { and, desc, eq, gt, inArray } from "drizzle-orm";
import { z } from "zod";
import { auditEntries, breakGlassGrants, breakGlassPolicies, tenants } from "@/db/schema";
import { TenantSlug } from "@/engine/api/contract";
import { appendAudit } from "../audit/append";
import type { GrantRole } from "../auth/permissions";
import { systemContext, type Actor, type TenantContext } from "../context";
import { withSystem, withTenant, withUser, type Tx } from "../db";
import { InputError } from "../errors";

export type Engineer = { id: string; name: string; email: string };
export type Grant = typeof breakGlassGrants.$inferSelect;

export const GrantRequest = z.object({
  tenant: TenantSlug,
  justification: z.string().trim().min(20, "Explain why in at least 20 characters.").max(2000, "Keep the justification under 2,000 characters."),
  ticket: z.string().trim().min(1, "Give the ticket reference.").max(100, "A ticket reference has at most 100 characters."),
  scope: z.enum(["read_only", "read_write"], { error: "Choose read-only or read-write." }),
  durationMinutes: z.coerce.number({ error: "Choose a duration." }).int().min(15, "At least 15 minutes.").max(240, "At most 4 hours.").default(60),
});
export type GrantRequest = z.infer<typeof GrantRequest>;

export const grantRole = (g: Pick<Grant, "scope">): GrantRole => (g.scope === "read_only" ? "engineer_read_only" : "engineer_read_write");
const engineerActor = (e: Engineer, grantId: string): Actor => ({ userId: e.id, name: e.name, email: e.email, roles: ["engineer"], grantId });
const summary = (g: Grant) => ({ status: g.status, scope: g.scope, ticket: g.ticket, startsAt: g.startsAt, endsAt: g.endsAt });

/**
 * A grant event goes to both chains in one transaction: the tenant's (the tenant sees every vendor access) and
 * the global one (the vendor's own oversight). The transaction's tenant scope makes both heads writable.
 */
async function auditBoth(tx: Tx, tenantId: string, actor: Actor | { system: string }, event: Parameters<typeof appendAudit>[2]) {
  await appendAudit(tx, { tenantId, actor }, event);
  await appendAudit(tx, { tenantId: null, actor }, event);
}

async function tenantBySlug(slug: string) {
  const [t] = await withSystem((tx) => tx.select().from(tenants).where(eq(tenants.slug, slug)));
  return t ?? null;
}

export async function getPolicy(tenantId: string) {
  const [p] = await withTenant(systemContext(tenantId), (tx) => tx.select().from(breakGlassPolicies).where(eq(breakGlassPolicies.tenantId, tenantId)));
  return p ?? { tenantId, requireApproval: false, approvalWindowMinutes: 60 };
}

/** Opens a grant (or, where the tenant requires approval, files it for a tenant admin to decide). */
export async function requestGrant(engineer: Engineer, input: z.input<typeof GrantRequest>, now = new Date()) {
  const r = GrantRequest.parse(input);
  const tenant = await tenantBySlug(r.tenant);
  if (!tenant) throw new InputError("There is no tenant with that slug.", { tenant: ["unknown tenant"] });
  const policy = await getPolicy(tenant.id);
  const active = !policy.requireApproval;
  return withTenant(systemContext(tenant.id), async (tx) => {
    const [g] = await tx
      .insert(breakGlassGrants)
      .values({
        tenantId: tenant.id,
        engineerUserId: engineer.id,
        engineerName: engineer.name,
        engineerEmail: engineer.email,
        justification: r.justification,
        ticket: r.ticket,
        scope: r.scope,
        durationMinutes: r.durationMinutes,
        status: active ? "active" : "pending",
        requestedAt: now,
        startsAt: active ? now : null,
        endsAt: active ? new Date(now.getTime() + r.durationMinutes * 60_000) : null,
      })
      .returning();
    await auditBoth(tx, tenant.id, engineerActor(engineer, g!.id), {
      action: active ? "break-glass.start" : "break-glass.request",
      target: `grant:${g!.id}`,
      reason: r.justification,
      after: { ...summary(g!), tenant: tenant.slug, durationMinutes: r.durationMinutes },
    });
    return { grant: g!, tenantSlug: tenant.slug };
  });
}

/** The engineer's active grant on a tenant at `now`, read in the engineer's own scope. */
export async function activeGrant(engineer: Pick<Engineer, "id" | "email">, tenantId: string, now = new Date()) {
  const [g] = await withUser({ userId: engineer.id, email: engineer.email }, (tx) =>
    tx
      .select()
      .from(breakGlassGrants)
      .where(and(eq(breakGlassGrants.engineerUserId, engineer.id), eq(breakGlassGrants.tenantId, tenantId), eq(breakGlassGrants.status, "active"), gt(breakGlassGrants.endsAt, now)))
      .orderBy(desc(breakGlassGrants.endsAt))
      .limit(1),
  );
  return g ?? null;
}

/** The tenant context an active grant gives, or null. Resolves the slug as metadata (system scope). */
export async function grantContext(engineer: Engineer, slug: string, now = new Date()) {
  const tenant = await tenantBySlug(slug);
  if (!tenant) return null;
  const grant = await activeGrant(engineer, tenant.id, now);
  if (!grant) return null;
  return { tenant, grant, role: grantRole(grant), actor: engineerActor(engineer, grant.id) };
}

/** Every request made under a grant is recorded in both chains, tagged with the grant. */
export async function recordGrantAccess(ctx: Pick<TenantContext, "tenantId" | "actor" | "requestId">, what: string) {
  await withTenant(ctx, (tx) => auditBoth(tx, ctx.tenantId, ctx.actor, { action: "break-glass.access", target: what.slice(0, 300) }));
}

async function decide(ctx: TenantContext, grantId: string, fn: (g: Grant, tx: Tx) => Promise<{ set: Partial<Grant>; action: string; reason?: string | null }>) {
  const id = z.uuid("not a grant id").parse(grantId);
  return withTenant(ctx, async (tx) => {
    const [g] = await tx.select().from(breakGlassGrants).where(and(eq(breakGlassGrants.id, id), eq(breakGlassGrants.tenantId, ctx.tenantId))).for("update");
    if (!g) throw new InputError("There is no such grant on this tenant.");
    const { set, action, reason } = await fn(g, tx);
    const [after] = await tx.update(breakGlassGrants).set(set).where(eq(breakGlassGrants.id, id)).returning();
    await auditBoth(tx, ctx.tenantId, ctx.actor, { action, target: `grant:${id}`, reason: reason ?? null, before: summary(g), after: summary(after!) });
    return after!;
  });
}

export async function approveGrant(ctx: TenantContext, grantId: string, now = new Date()) {
  return decide(ctx, grantId, async (g) => {
    if (g.status !== "pending") throw new InputError(`This request is ${g.status}; only pending requests can be approved.`);
    if (g.engineerUserId === ctx.actor.userId) throw new InputError("You cannot approve your own request.");
    const policy = await getPolicy(ctx.tenantId);
    if (now.getTime() - g.requestedAt.getTime() > policy.approvalWindowMinutes * 60_000) throw new InputError("This request has lapsed; the engineer must ask again.");
    return {
      set: { status: "active", startsAt: now, endsAt: new Date(now.getTime() + g.durationMinutes * 60_000), decidedByEmail: ctx.actor.email },
      action: "break-glass.approve",
    };
  });
}

export async function denyGrant(ctx: TenantContext, grantId: string, now = new Date()) {
  return decide(ctx, grantId, async (g) => {
    if (g.status !== "pending") throw new InputError(`This request is ${g.status}; only pending requests can be denied.`);
    return { set: { status: "denied", decidedByEmail: ctx.actor.email, closedAt: now, closedByEmail: ctx.actor.email }, action: "break-glass.deny" };
  });
}

export async function revokeGrant(ctx: TenantContext, grantId: string, reason: string | null, now = new Date()) {
  return decide(ctx, grantId, async (g) => {
    if (g.status !== "active") throw new InputError(`This grant is ${g.status}; only active grants can be revoked.`);
    return { set: { status: "revoked", closedAt: now, closedByEmail: ctx.actor.email, closeReason: reason, endsAt: now }, action: "break-glass.revoke", reason };
  });
}

/** "End now", by the engineer. */
export async function endGrant(engineer: Engineer, grantId: string, now = new Date()) {
  const id = z.uuid("not a grant id").parse(grantId);
  const [mine] = await withUser({ userId: engineer.id, email: engineer.email }, (tx) =>
    tx.select().from(breakGlassGrants).where(and(eq(breakGlassGrants.id, id), eq(breakGlassGrants.engineerUserId, engineer.id))),
  );
  if (!mine || mine.status !== "active") throw new InputError("That grant is not active.");
  return withTenant(systemContext(mine.tenantId), async (tx) => {
    const [after] = await tx
      .update(breakGlassGrants)
      .set({ status: "ended", closedAt: now, closedByEmail: engineer.email, closeReason: "ended by the engineer", endsAt: now })
      .where(and(eq(breakGlassGrants.id, id), eq(breakGlassGrants.status, "active")))
      .returning();
    if (!after) throw new InputError("That grant is not active.");
    await auditBoth(tx, mine.tenantId, engineerActor(engineer, id), { action: "break-glass.end", target: `grant:${id}`, before: summary(mine), after: summary(after) });
    return after;
  });
}

/** The worker's sweep: active grants past their end are closed, unanswered requests past the window lapse. */
export async function closeDueGrants(now = new Date()) {
  const due = await withSystem((tx) =>
    tx
      .select()
      .from(breakGlassGrants)
      .where(and(inArray(breakGlassGrants.status, ["active", "pending"]))),
  );
  let closed = 0;
  for (const g of due) {
    const policy = g.status === "pending" ? await getPolicy(g.tenantId) : null;
    const expired = g.status === "active" && g.endsAt && g.endsAt <= now;
    const lapsed = policy && now.getTime() - g.requestedAt.getTime() > policy.approvalWindowMinutes * 60_000;
    if (!expired && !lapsed) continue;
    await withTenant(systemContext(g.tenantId), async (tx) => {
      const [after] = await tx
        .update(breakGlassGrants)
        .set(expired ? { status: "ended", closedAt: now, closeReason: "expired" } : { status: "lapsed", closedAt: now, closeReason: "not approved in time" })
        .where(and(eq(breakGlassGrants.id, g.id), eq(breakGlassGrants.status, g.status)))
        .returning();
      if (after) {
        await auditBoth(tx, g.tenantId, { system: "break-glass" }, { action: expired ? "break-glass.expire" : "break-glass.lapse", target: `grant:${g.id}`, before: summary(g), after: summary(after) });
        closed++;
      }
    });
  }
  return closed;
}

/** Every grant on the tenant, newest first, each with what was viewed or changed under it. */
export async function listTenantGrants(ctx: Pick<TenantContext, "tenantId" | "actor">, accessPerGrant = 50) {
  return withTenant(ctx, async (tx) => {
    const grants = await tx.select().from(breakGlassGrants).where(eq(breakGlassGrants.tenantId, ctx.tenantId)).orderBy(desc(breakGlassGrants.requestedAt));
    return Promise.all(
      grants.map(async (g) => ({
        ...g,
        access: await tx
          .select({ seq: auditEntries.seq, at: auditEntries.at, action: auditEntries.action, target: auditEntries.target })
          .from(auditEntries)
          .where(and(eq(auditEntries.chain, ctx.tenantId), eq(auditEntries.grantId, g.id)))
          .orderBy(desc(auditEntries.seq))
          .limit(accessPerGrant),
      })),
    );
  });
}

/** Active grants on the tenant: the notice tenant members see on every page. */
export async function activeGrantsOn(ctx: Pick<TenantContext, "tenantId" | "actor">, now = new Date()) {
  return withTenant(ctx, (tx) =>
    tx.select().from(breakGlassGrants).where(and(eq(breakGlassGrants.tenantId, ctx.tenantId), eq(breakGlassGrants.status, "active"), gt(breakGlassGrants.endsAt, now))),
  );
}

/** The engineer's own grants (read in their scope), with the tenants' names (registry metadata). */
export async function listMyGrants(engineer: Pick<Engineer, "id" | "email">) {
  const grants = await withUser({ userId: engineer.id, email: engineer.email }, (tx) =>
    tx.select().from(breakGlassGrants).where(eq(breakGlassGrants.engineerUserId, engineer.id)).orderBy(desc(breakGlassGrants.requestedAt)).limit(50),
  );
  const names = new Map((await withSystem((tx) => tx.select({ id: tenants.id, slug: tenants.slug, name: tenants.name }).from(tenants))).map((t) => [t.id, t]));
  return grants.map((grant) => ({ grant, tenantSlug: names.get(grant.tenantId)?.slug ?? "?", tenantName: names.get(grant.tenantId)?.name ?? "?" }));
}

export const PolicyInput = z.object({
  requireApproval: z.preprocess((v) => v === "on" || v === true || v === "true", z.boolean()),
  approvalWindowMinutes: z.coerce.number({ error: "Give the approval window in minutes." }).int().min(5, "At least 5 minutes.").max(1440, "At most 24 hours."),
});

export async function updatePolicy(ctx: TenantContext, input: z.input<typeof PolicyInput>) {
  const p = PolicyInput.parse(input);
  return withTenant(ctx, async (tx) => {
    const [before] = await tx.select().from(breakGlassPolicies).where(eq(breakGlassPolicies.tenantId, ctx.tenantId));
    await tx
      .insert(breakGlassPolicies)
      .values({ tenantId: ctx.tenantId, ...p })
      .onConflictDoUpdate({ target: breakGlassPolicies.tenantId, set: p });
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "break-glass.policy",
      target: `tenant:${ctx.tenantSlug}`,
      before: before ? { requireApproval: before.requireApproval, approvalWindowMinutes: before.approvalWindowMinutes } : { requireApproval: false, approvalWindowMinutes: 60 },
      after: p,
    });
  });
}

