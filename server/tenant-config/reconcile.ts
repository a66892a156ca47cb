import "server-only";
import { eq, sql } from "drizzle-orm";
import { aeTitles, tenantConfigs, tenants } from "@/db/schema";
import type { TenantConfig } from "@/engine/api/contract";
import { appendAudit } from "../audit/append";
import { systemContext } from "../context";
import { withSystem, withTenant } from "../db";
import { EngineError, type EngineClient } from "../engine/client";

/** Tenants whose desired config version the engine has not confirmed yet. */
export async function tenantsAwaitingApply(): Promise<string[]> {
  const rows = await withSystem((tx) => tx.select({ id: tenants.id }).from(tenants));
  const pending: string[] = [];
  for (const { id } of rows) {
    const [c] = await withTenant(systemContext(id), (tx) =>
      tx.select({ v: tenantConfigs.version, a: tenantConfigs.appliedVersion }).from(tenantConfigs).where(eq(tenantConfigs.tenantId, id)),
    );
    if (c && c.a !== c.v) pending.push(id);
  }
  return pending;
}

/**
 * Drift check: when the engine's applied version differs from what the console recorded (engine database
 * restored, config changed behind our back), forget the recorded version so the next sweep pushes again.
 */
export async function detectDrift(engine: EngineClient): Promise<string[]> {
  const applied = new Map((await engine.listTenantConfigs()).map((c) => [c.slug, c.version]));
  const all = await withSystem((tx) => tx.select({ id: tenants.id, slug: tenants.slug }).from(tenants));
  const drifted: string[] = [];
  for (const t of all) {
    await withTenant(systemContext(t.id), async (tx) => {
      const [c] = await tx.select().from(tenantConfigs).where(eq(tenantConfigs.tenantId, t.id));
      if (c?.appliedVersion != null && applied.get(t.slug) !== c.appliedVersion) {
        await tx.update(tenantConfigs).set({ appliedVersion: null }).where(eq(tenantConfigs.tenantId, t.id));
        drifted.push(t.id);
      }
    });
  }
  return drifted;
}

/** Pushes one tenant's desired config to the engine and records the version the engine applied. */
export async function reconcileTenantConfig(engine: EngineClient, tenantId: string) {
  const ctx = systemContext(tenantId);
  const [tenant] = await withSystem((tx) => tx.select().from(tenants).where(eq(tenants.id, tenantId)));
  if (!tenant) return { status: "gone" as const };
  const desired = await withTenant(ctx, async (tx) => {
    const [c] = await tx.select().from(tenantConfigs).where(eq(tenantConfigs.tenantId, tenantId));
    const titles = await tx.select().from(aeTitles).where(eq(aeTitles.tenantId, tenantId));
    if (!c) return null;
    const config: TenantConfig = {
      ttlDays: c.ttlDays,
      version: c.version,
      calledAeTitles: titles.filter((t) => t.kind === "called").map((t) => t.aeTitle).sort(),
      allowedCallingAeTitles: titles.filter((t) => t.kind === "calling").map((t) => t.aeTitle).sort(),
      privateSopClasses: [...c.privateSopClasses].sort(),
      // Suspension goes with the config: the engine refuses the AE titles and disconnects the routers while set.
      suspended: tenant.suspendedAt ? { since: tenant.suspendedAt.toISOString(), reason: tenant.suspensionReason ?? "" } : null,
    };
    return { config, alreadyApplied: c.appliedVersion === c.version };
  });
  if (!desired || desired.alreadyApplied) return { status: "up-to-date" as const };

  try {
    const applied = await engine.putTenantConfig(tenant.slug, desired.config);
    await withTenant(ctx, async (tx) => {
      await tx
        .update(tenantConfigs)
        .set({ appliedVersion: applied.version, appliedAt: sql`now()`, lastSyncError: null })
        .where(eq(tenantConfigs.tenantId, tenantId));
      await appendAudit(tx, { tenantId, actor: ctx.actor, source: "console" }, {
        action: "tenant-config.apply",
        target: `tenant:${tenant.slug}`,
        after: applied,
      });
    });
    return { status: "applied" as const, version: applied.version };
  } catch (e) {
    if (e instanceof EngineError && e.status === 409 && e.code === "stale_version") {
      // The engine holds a newer version than we do (our database was restored): move past it and retry.
      const current = await engine.getTenantConfig(tenant.slug);
      await withTenant(ctx, (tx) =>
        tx
          .update(tenantConfigs)
          .set({ version: (current?.version ?? desired.config.version) + 1 })
          .where(eq(tenantConfigs.tenantId, tenantId)),
      );
    }
    const message = e instanceof Error ? e.message : String(e);
    await withTenant(ctx, (tx) =>
      tx.update(tenantConfigs).set({ lastSyncError: message.slice(0, 500) }).where(eq(tenantConfigs.tenantId, tenantId)),
    );
    throw e;
  }
}
