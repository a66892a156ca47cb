import "server-only";
import { eq, sql } from "drizzle-orm";
import { memberships, tenantConfigs, tenants } from "@/db/schema";
import { z } from "zod";
import { appendAudit } from "../audit/append";
import { systemContext, type Actor } from "../context";
import { ForbiddenError, InputError, NotFoundError } from "../errors";
import { setLocals, withSystem, withTenant } from "../db";
import { engineClientFromEnv, tryEngine } from "../engine/client";
import { createTenant, listAllTenants } from "./service";
import { offboardingDueAt } from "./offboarding";
import type { OffboardReceipt } from "@/engine/api/contract";

/**
 * The operations registry: per tenant only metadata a vendor needs to run the service (member count, whether the
 * engine has its config, how many routers are connected), never its data.
 */
export async function tenantsOverview() {
  const all = await listAllTenants();
  const engine = engineClientFromEnv();
  return Promise.all(
    all.map(async (t) => {
      const { members, config } = await withTenant(systemContext(t.id), async (tx) => {
        const [m] = await tx.select({ n: sql<number>`count(*)::int` }).from(memberships).where(eq(memberships.tenantId, t.id));
        const [c] = await tx.select({ version: tenantConfigs.version, applied: tenantConfigs.appliedVersion }).from(tenantConfigs).where(eq(tenantConfigs.tenantId, t.id));
        return { members: m?.n ?? 0, config: c };
      });
      const routers = await tryEngine(() => engine.listRouters(t.slug));
      return {
        ...t,
        members,
        suspended: t.suspendedAt ? { since: t.suspendedAt, reason: t.suspensionReason ?? "", by: t.suspendedBy } : null,
        offboarding: t.offboardingRequestedAt
          ? { requestedAt: t.offboardingRequestedAt, by: t.offboardingRequestedBy ?? "", reason: t.offboardingReason ?? "", dueAt: offboardingDueAt(t.offboardingRequestedAt) }
          : null,
        offboarded: t.offboardedAt ? { at: t.offboardedAt, by: t.offboardedBy ?? "", receipt: t.offboardReceipt as OffboardReceipt | null } : null,
        configSync: !config ? "none" : config.applied === config.version ? `applied (v${config.version})` : `pending (v${config.version})`,
        routersConnected: routers.ok ? routers.value.routers.filter((r) => r.connected).length : null,
      };
    }),
  );
}

/** What an engineer types to create a tenant: the tenant admin it starts with is invited by e-mail. */
export const OpsTenantInput = z.object({
  slug: z.string().trim(),
  name: z.string().trim().min(1, "Give the tenant's display name.").max(120, "At most 120 characters."),
  ttlDays: z.coerce.number({ error: "The TTL is a number of days." }).int("A whole number of days.").min(1, "At least 1 day.").max(30, "At most 30 days."),
  calledAeTitles: z.string().default("").transform((s) => s.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean)),
  adminEmail: z.email("Give the first tenant admin's e-mail address.").transform((e) => e.trim().toLowerCase()),
});

/** An engineer creates a tenant (audited in the global chain and the tenant's own); the engine gets it by reconcile. */
export async function createTenantAsEngineer(engineer: { id: string; name: string; email: string; isEngineer: boolean }, input: unknown) {
  if (!engineer.isEngineer) throw new ForbiddenError("Only engineers create tenants.");
  const d = OpsTenantInput.parse(input);
  const actor: Actor = { userId: engineer.id, name: engineer.name, email: engineer.email, roles: ["engineer"] };
  return createTenant({ slug: d.slug, name: d.name, ttlDays: d.ttlDays, calledAeTitles: d.calledAeTitles, members: [{ email: d.adminEmail, role: "tenant_admin" }] }, actor);
}

type Engineer = { id: string; name: string; email: string; isEngineer: boolean };

/** The reason an engineer gives for suspending or reactivating: required, recorded in both audit chains. */
export const SuspensionInput = z.object({
  reason: z.string({ error: "Give the reason." }).trim().min(3, "Give the reason (at least 3 characters).").max(500, "At most 500 characters."),
});

/**
 * An engineer suspends a tenant, or reactivates it. One transaction: the tenant's suspension (since, reason, by),
 * a config version bump so the worker pushes `suspended` to the engine (which then refuses its called AE titles
 * and disconnects its routers), and an entry in the global chain and in the tenant's own, with the reason.
 * Nothing held is deleted and the TTL is not touched: held results keep expiring on their clock.
 */
export async function setTenantSuspension(engineer: Engineer, slug: string, suspend: boolean, input: unknown) {
  if (!engineer.isEngineer) throw new ForbiddenError("Only engineers suspend or reactivate tenants.");
  const parsed = SuspensionInput.safeParse(input);
  if (!parsed.success) throw new InputError("Give the reason.", z.flattenError(parsed.error).fieldErrors as Record<string, string[]>);
  const { reason } = parsed.data;
  const actor: Actor = { userId: engineer.id, name: engineer.name, email: engineer.email, roles: ["engineer"] };
  return withSystem(async (tx) => {
    const [t] = await tx.select().from(tenants).where(eq(tenants.slug, slug)).for("update");
    if (!t) throw new NotFoundError("No such tenant.");
    if (t.offboardedAt) throw new InputError(`${t.name} was offboarded.`);
    if (!suspend && t.offboardingRequestedAt) throw new InputError(`Offboarding ${t.name} is requested: cancel that request before reactivating.`);
    if (suspend && t.suspendedAt) throw new InputError(`${t.name} is already suspended.`);
    if (!suspend && !t.suspendedAt) throw new InputError(`${t.name} is not suspended.`);
    const [updated] = await tx
      .update(tenants)
      .set(suspend ? { suspendedAt: sql`now()`, suspensionReason: reason, suspendedBy: engineer.name } : { suspendedAt: null, suspensionReason: null, suspendedBy: null })
      .where(eq(tenants.id, t.id))
      .returning();
    const before = { suspendedAt: t.suspendedAt?.toISOString() ?? null, reason: t.suspensionReason };
    const after = { suspendedAt: updated!.suspendedAt?.toISOString() ?? null, reason: updated!.suspensionReason };
    const verb = suspend ? "suspend" : "reactivate";
    await appendAudit(tx, { tenantId: null, actor }, { action: `ops.tenant.${verb}`, target: `tenant:${t.slug}`, reason, before, after });
    await setLocals(tx, { "app.tenant_id": t.id });
    // The worker's reconcile pushes the new version, `suspended` included (tenant-config/reconcile.ts).
    const [config] = await tx
      .update(tenantConfigs)
      .set({ version: sql`${tenantConfigs.version} + 1`, updatedAt: sql`now()` })
      .where(eq(tenantConfigs.tenantId, t.id))
      .returning({ version: tenantConfigs.version });
    await appendAudit(tx, { tenantId: t.id, actor }, { action: `tenant.${verb}`, target: `tenant:${t.slug}`, reason, before, after: { ...after, configVersion: config?.version ?? null } });
    return { ...updated!, configVersion: config?.version ?? null };
  });
}
