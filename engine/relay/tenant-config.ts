import { and, asc, eq, ne, sql } from "drizzle-orm";
import type { AppliedTenantConfig, TenantConfig } from "../api/contract";
import type { EngineDb } from "../store/db";
import { engineEvents, offboardedTenants, tenantConfigs } from "../store/schema";
import { recomputeExpiry } from "./hold-queue";

export class StaleVersionError extends Error {
  constructor(readonly current: number) {
    super(`the engine already applied version ${current}, newer than this one`);
  }
}

/** A slug that was offboarded is never configured again (its data key is destroyed, its record kept). */
export class OffboardedTenantError extends Error {
  constructor(readonly slug: string) {
    super(`tenant ${slug} was offboarded; its slug is not reused`);
  }
}

export class AeTitleTakenError extends Error {
  constructor(readonly aeTitle: string) {
    super(`called AE title "${aeTitle}" already routes to another tenant`);
  }
}

const toApplied = (r: typeof tenantConfigs.$inferSelect): AppliedTenantConfig => ({
  slug: r.slug,
  ttlDays: r.ttlDays,
  calledAeTitles: r.calledAeTitles,
  allowedCallingAeTitles: r.allowedCallingAeTitles,
  privateSopClasses: r.privateSopClasses,
  version: r.version,
  appliedAt: r.appliedAt.toISOString(),
  suspended: r.suspendedAt ? { since: r.suspendedAt.toISOString(), reason: r.suspensionReason ?? "" } : null,
});

/**
 * Applies a tenant's config. Versions only move forward (an older version is refused, the same one is a no-op),
 * and a called AE title routes to one tenant only. The `config.applied` event commits with the change.
 */
export async function applyTenantConfig(db: EngineDb, slug: string, config: TenantConfig): Promise<AppliedTenantConfig> {
  return db.transaction(async (tx) => {
    // Serializes config changes so two tenants can't claim one AE title concurrently.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('engine.tenant_configs'))`);
    const [gone] = await tx.select({ slug: offboardedTenants.slug }).from(offboardedTenants).where(eq(offboardedTenants.slug, slug));
    if (gone) throw new OffboardedTenantError(slug);
    const [current] = await tx.select().from(tenantConfigs).where(eq(tenantConfigs.slug, slug));
    if (current && current.version > config.version) throw new StaleVersionError(current.version);
    if (current && current.version === config.version) return toApplied(current);
    for (const ae of config.calledAeTitles) {
      const [taken] = await tx
        .select({ slug: tenantConfigs.slug })
        .from(tenantConfigs)
        .where(and(ne(tenantConfigs.slug, slug), sql`${ae} = any(${tenantConfigs.calledAeTitles})`));
      if (taken) throw new AeTitleTakenError(ae);
    }
    // Suspension changes only what is accepted (routing.ts, gateway.ts): no result, blob or expiry is touched.
    const { suspended, privateSopClasses, ...rest } = config;
    const values = {
      slug,
      ...rest,
      privateSopClasses: privateSopClasses ?? [],
      suspendedAt: suspended ? new Date(suspended.since) : null,
      suspensionReason: suspended?.reason ?? null,
      appliedAt: new Date(),
    };
    const [row] = await tx
      .insert(tenantConfigs)
      .values(values)
      .onConflictDoUpdate({ target: tenantConfigs.slug, set: values })
      .returning();
    const applied = toApplied(row!);
    if (current && current.ttlDays !== config.ttlDays) await recomputeExpiry(tx, slug, config.ttlDays);
    await tx.insert(engineEvents).values({
      tenantSlug: slug,
      type: "config.applied",
      payload: { before: current ? toApplied(current) : null, after: applied },
    });
    return applied;
  });
}

export async function getTenantConfig(db: EngineDb, slug: string) {
  const [row] = await db.select().from(tenantConfigs).where(eq(tenantConfigs.slug, slug));
  return row ? toApplied(row) : null;
}

export async function listTenantConfigs(db: EngineDb) {
  return (await db.select().from(tenantConfigs).orderBy(asc(tenantConfigs.slug))).map(toApplied);
}
