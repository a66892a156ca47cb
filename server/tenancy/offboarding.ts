import "server-only";
import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import {
  aeTitles,
  breakGlassGrants,
  breakGlassPolicies,
  memberships,
  migrationApprovalPolicies,
  migrationNotices,
  migrationReports,
  quarantineClaims,
  quarantinePolicies,
  scimTokens,
  scimUsers,
  tenantConfigs,
  tenants,
  webhookDeliveries,
  webhookEndpoints,
} from "@/db/schema";
import { appendAudit } from "../audit/append";
import { tenantChain, type ChainScope } from "../audit/queries";
import { requireFreshAuth } from "../auth/step-up";
import type { Actor } from "../context";
import { setLocals, withSystem, type Tx } from "../db";
import { engineClientFromEnv } from "../engine/client";
import { offboardingEnv } from "../env";
import { reconcileTenantConfig } from "../tenant-config/reconcile";
import { ForbiddenError, InputError, NotFoundError } from "../errors";

type Engineer = { id: string; name: string; email: string; isEngineer: boolean; authTime: number };

/** Step one: the slug typed out, and the reason (recorded in both audit chains and with every purged result). */
export const OffboardingRequestInput = z.object({
  confirmSlug: z.string({ error: "Type the tenant's slug." }).trim(),
  reason: z.string({ error: "Give the reason." }).trim().min(3, "Give the reason (at least 3 characters).").max(500, "At most 500 characters."),
});

/** Step two, after the wait and a fresh sign-in: `delete <slug>` typed out. */
export const OffboardingConfirmInput = z.object({ confirm: z.string({ error: "Type the confirmation." }).trim() });

const actorOf = (e: Engineer): Actor => ({ userId: e.id, name: e.name, email: e.email, roles: ["engineer"] });

/** When a request made at `requestedAt` may be confirmed. */
export const offboardingDueAt = (requestedAt: Date) => new Date(requestedAt.getTime() + offboardingEnv().OFFBOARDING_WAIT_HOURS * 3_600_000);

async function lockTenant(tx: Tx, slug: string) {
  const [t] = await tx.select().from(tenants).where(eq(tenants.slug, slug)).for("update");
  if (!t) throw new NotFoundError("No such tenant.");
  if (t.offboardedAt) throw new InputError(`${t.name} was offboarded on ${t.offboardedAt.toISOString().slice(0, 10)}.`);
  return t;
}

/** Both chains: the global one (what engineers did) and the tenant's own, which outlives its data. */
async function auditBoth(tx: Tx, t: { id: string; slug: string }, actor: Actor, verb: string, entry: { reason?: string; before?: unknown; after?: unknown }) {
  await appendAudit(tx, { tenantId: null, actor }, { action: `ops.tenant.${verb}`, target: `tenant:${t.slug}`, ...entry });
  await setLocals(tx, { "app.tenant_id": t.id });
  await appendAudit(tx, { tenantId: t.id, actor }, { action: `tenant.${verb}`, target: `tenant:${t.slug}`, ...entry });
}

/**
 * Step one, on a suspended tenant: records the request. Nothing is deleted yet; the request can be cancelled
 * until the wait is over and an engineer confirms.
 */
export async function requestOffboarding(engineer: Engineer, slug: string, input: unknown) {
  if (!engineer.isEngineer) throw new ForbiddenError("Only engineers offboard tenants.");
  const parsed = OffboardingRequestInput.safeParse(input);
  if (!parsed.success) throw new InputError(parsed.error.issues[0]!.message, z.flattenError(parsed.error).fieldErrors as Record<string, string[]>);
  const { confirmSlug, reason } = parsed.data;
  return withSystem(async (tx) => {
    const t = await lockTenant(tx, slug);
    if (!t.suspendedAt) throw new InputError(`Suspend ${t.name} first: offboarding starts from a suspended tenant, so nothing new arrives meanwhile.`);
    if (t.offboardingRequestedAt) throw new InputError(`Offboarding ${t.name} was already requested by ${t.offboardingRequestedBy}.`);
    if (confirmSlug !== t.slug) throw new InputError(`Type the slug "${t.slug}" exactly to request offboarding.`, { confirmSlug: [`Type "${t.slug}".`] });
    const [updated] = await tx
      .update(tenants)
      .set({ offboardingRequestedAt: sql`now()`, offboardingRequestedBy: engineer.name, offboardingReason: reason })
      .where(eq(tenants.id, t.id))
      .returning();
    const dueAt = offboardingDueAt(updated!.offboardingRequestedAt!);
    await auditBoth(tx, t, actorOf(engineer), "offboard_request", { reason, after: { requestedAt: updated!.offboardingRequestedAt!.toISOString(), dueAt: dueAt.toISOString() } });
    return { ...updated!, dueAt };
  });
}

/** Withdraws a request: the tenant stays suspended, with all its data. */
export async function cancelOffboarding(engineer: Engineer, slug: string) {
  if (!engineer.isEngineer) throw new ForbiddenError("Only engineers offboard tenants.");
  return withSystem(async (tx) => {
    const t = await lockTenant(tx, slug);
    if (!t.offboardingRequestedAt) throw new InputError(`Offboarding ${t.name} is not requested.`);
    const [updated] = await tx.update(tenants).set({ offboardingRequestedAt: null, offboardingRequestedBy: null, offboardingReason: null }).where(eq(tenants.id, t.id)).returning();
    await auditBoth(tx, t, actorOf(engineer), "offboard_cancel", {
      before: { requestedAt: t.offboardingRequestedAt.toISOString(), requestedBy: t.offboardingRequestedBy, reason: t.offboardingReason },
    });
    return updated!;
  });
}

/**
 * Step two: after the wait, with a fresh sign-in and `delete <slug>` typed out. The engine purges first (results
 * with a receipt each, evidence, migrations, routers, the data key); then, in one transaction, the console deletes
 * the tenant's people, AE titles, configuration, provisioning and webhooks, and records the receipt. The tenant's
 * row, its audit chain and its signatures stay: the slug is never reused and the chain can be exported. A run cut
 * short after the engine's part is finished by confirming again (the engine answers with the same receipt).
 */
export async function completeOffboarding(engineer: Engineer, slug: string, input: unknown) {
  if (!engineer.isEngineer) throw new ForbiddenError("Only engineers offboard tenants.");
  requireFreshAuth(engineer);
  const { confirm } = OffboardingConfirmInput.parse(input);
  const t = await withSystem((tx) => lockTenant(tx, slug));
  if (!t.offboardingRequestedAt || !t.offboardingReason) throw new InputError(`Request offboarding ${t.name} first.`);
  if (!t.suspendedAt) throw new InputError(`${t.name} is not suspended.`);
  const dueAt = offboardingDueAt(t.offboardingRequestedAt);
  if (dueAt.getTime() > Date.now()) throw new InputError(`The waiting period ends at ${dueAt.toISOString().replace("T", " ").slice(0, 16)} UTC; offboarding can be confirmed then.`);
  if (confirm !== `delete ${t.slug}`) throw new InputError(`Type "delete ${t.slug}" exactly to offboard.`, { confirm: [`Type "delete ${t.slug}".`] });

  const engine = engineClientFromEnv(120_000);
  // The engine offboards only a tenant it knows is suspended: push the suspension now rather than wait for the worker.
  await reconcileTenantConfig(engine, t.id);
  const receipt = await engine.offboardTenant(t.slug, t.offboardingReason);
  return withSystem(async (tx) => {
    const current = await lockTenant(tx, slug);
    await setLocals(tx, { "app.tenant_id": current.id });
    const removed = {
      members: await count(tx.delete(memberships).where(eq(memberships.tenantId, current.id)).returning({ id: memberships.id })),
      aeTitles: await count(tx.delete(aeTitles).where(eq(aeTitles.tenantId, current.id)).returning({ id: aeTitles.id })),
      scimUsers: await count(tx.delete(scimUsers).where(eq(scimUsers.tenantId, current.id)).returning({ id: scimUsers.id })),
      scimTokens: await count(tx.delete(scimTokens).where(eq(scimTokens.tenantId, current.id)).returning({ id: scimTokens.id })),
      webhooks: await count(
        tx.delete(webhookDeliveries).where(eq(webhookDeliveries.tenantId, current.id)).returning({ id: webhookDeliveries.id }),
        tx.delete(webhookEndpoints).where(eq(webhookEndpoints.tenantId, current.id)).returning({ id: webhookEndpoints.id }),
      ),
      migrationReports: await count(tx.delete(migrationReports).where(eq(migrationReports.tenantId, current.id)).returning({ id: migrationReports.id })),
    };
    await tx.delete(migrationNotices).where(eq(migrationNotices.tenantId, current.id));
    await tx.delete(quarantineClaims).where(eq(quarantineClaims.tenantId, current.id));
    for (const policy of [quarantinePolicies, breakGlassPolicies, migrationApprovalPolicies]) await tx.delete(policy).where(eq(policy.tenantId, current.id));
    await tx.delete(tenantConfigs).where(eq(tenantConfigs.tenantId, current.id));
    // Open break-glass requests and grants end with the tenant.
    await tx
      .update(breakGlassGrants)
      .set({ status: "revoked", closedAt: sql`now()`, closedByEmail: engineer.email, closeReason: "tenant offboarded", endsAt: sql`now()` })
      .where(and(eq(breakGlassGrants.tenantId, current.id), inArray(breakGlassGrants.status, ["pending", "active"])));
    const [updated] = await tx
      .update(tenants)
      .set({ offboardedAt: sql`now()`, offboardedBy: engineer.name, offboardReceipt: { ...receipt, console: removed } })
      .where(eq(tenants.id, current.id))
      .returning();
    await auditBoth(tx, current, actorOf(engineer), "offboard", { reason: current.offboardingReason ?? receipt.reason, after: { engine: receipt, console: removed } });
    return { tenant: updated!, receipt, removed };
  });
}

async function count(...deletes: Promise<unknown[]>[]) {
  let n = 0;
  for (const d of deletes) n += (await d).length;
  return n;
}

/**
 * An offboarded tenant's audit chain, for an engineer to export (its members are gone): only once offboarded, and
 * the export is itself recorded in the global chain.
 */
export async function offboardedTenantChain(engineer: { id: string; name: string; email: string }, slug: string): Promise<ChainScope> {
  const actor: Actor = { userId: engineer.id, name: engineer.name, email: engineer.email, roles: ["engineer"] };
  const t = await withSystem(async (tx) => {
    const [row] = await tx.select().from(tenants).where(eq(tenants.slug, slug));
    if (!row?.offboardedAt) throw new NotFoundError("No offboarded tenant by that slug: an active tenant's audit log opens through a break-glass grant.");
    await appendAudit(tx, { tenantId: null, actor }, { action: "ops.tenant.audit_export", target: `tenant:${row.slug}` });
    return row;
  });
  return tenantChain({ tenantId: t.id, tenantSlug: t.slug, actor });
}
