import "server-only";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { tenantConfigs } from "@/db/schema";
import { appendAudit } from "../audit/append";
import type { TenantContext } from "../context";
import { withTenant } from "../db";
import { engineClientFromEnv } from "../engine/client";
import { InputError } from "../errors";

export const TtlDays = z.coerce
  .number({ error: "Enter a number of days." })
  .int("Whole days only.")
  .min(1, "At least 1 day.")
  .max(30, "At most 30 days.");

export const RetentionInput = z.object({ ttlDays: TtlDays, expectedVersion: z.coerce.number().int().min(1) });

/** The desired TTL, its version and whether the engine has applied it yet. */
export async function getRetention(ctx: Pick<TenantContext, "tenantId" | "actor">) {
  const [c] = await withTenant(ctx, (tx) => tx.select().from(tenantConfigs).where(eq(tenantConfigs.tenantId, ctx.tenantId)));
  if (!c) throw new Error("the tenant has no configuration row");
  return {
    ttlDays: c.ttlDays,
    version: c.version,
    appliedVersion: c.appliedVersion,
    appliedAt: c.appliedAt?.toISOString() ?? null,
    lastSyncError: c.lastSyncError,
    applied: c.appliedVersion === c.version,
  };
}
export type RetentionState = Awaited<ReturnType<typeof getRetention>>;

/** What a TTL would do to the live queue, from the engine. */
export async function previewRetention(ctx: Pick<TenantContext, "tenantSlug">, ttlDays: unknown) {
  return engineClientFromEnv().retentionPreview(ctx.tenantSlug, TtlDays.parse(ttlDays));
}

/**
 * Records a new desired TTL: the version goes up and the worker pushes it to the engine. Optimistic: a change
 * made by someone else since the form was loaded is refused rather than silently overwritten.
 */
export async function updateRetention(ctx: TenantContext, input: z.input<typeof RetentionInput>) {
  const { ttlDays, expectedVersion } = RetentionInput.parse(input);
  return withTenant(ctx, async (tx) => {
    const [c] = await tx.select().from(tenantConfigs).where(eq(tenantConfigs.tenantId, ctx.tenantId)).for("update");
    if (!c) throw new Error("the tenant has no configuration row");
    if (c.version !== expectedVersion) throw new InputError("Someone changed this tenant's configuration meanwhile. Reload the page and try again.");
    if (c.ttlDays === ttlDays) return { changed: false, version: c.version };
    const [updated] = await tx
      .update(tenantConfigs)
      .set({ ttlDays, version: sql`${tenantConfigs.version} + 1`, updatedAt: sql`now()` })
      .where(eq(tenantConfigs.tenantId, ctx.tenantId))
      .returning();
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "retention.update",
      target: `tenant:${ctx.tenantSlug}`,
      before: { ttlDays: c.ttlDays, version: c.version },
      after: { ttlDays, version: updated!.version },
    });
    return { changed: true, version: updated!.version };
  });
}
