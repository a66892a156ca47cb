import { sql } from "drizzle-orm";
import type { EngineDb } from "../store/db";
import { tenantConfigs } from "../store/schema";
import type { TenantRoute } from "../dicom/scp";

/** The tenant whose applied config lists this called AE title (AE titles compare exactly, after trimming), and whether it is suspended. */
export async function routeCalledAe(db: EngineDb, calledAe: string): Promise<TenantRoute | null> {
  const [row] = await db
    .select({ slug: tenantConfigs.slug, allowed: tenantConfigs.allowedCallingAeTitles, suspendedAt: tenantConfigs.suspendedAt, reason: tenantConfigs.suspensionReason })
    .from(tenantConfigs)
    .where(sql`${calledAe} = any(${tenantConfigs.calledAeTitles})`);
  if (!row) return null;
  return { slug: row.slug, allowedCallingAeTitles: row.allowed, suspended: row.suspendedAt ? { since: row.suspendedAt, reason: row.reason ?? "" } : null };
}
