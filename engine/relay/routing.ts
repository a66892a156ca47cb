import { sql } from "drizzle-orm";
import type { EngineDb } from "../store/db";
import { tenantConfigs } from "../store/schema";
import type { TenantRoute } from "../dicom/scp";

/** The tenant whose applied config lists this called AE title (AE titles compare exactly, after trimming), whether it is suspended, and the private SOP classes it accepts. */
export async function routeCalledAe(db: EngineDb, calledAe: string): Promise<TenantRoute | null> {
  const [row] = await db
    .select({ slug: tenantConfigs.slug, allowed: tenantConfigs.allowedCallingAeTitles, privateSopClasses: tenantConfigs.privateSopClasses, suspendedAt: tenantConfigs.suspendedAt, reason: tenantConfigs.suspensionReason })
    .from(tenantConfigs)
    .where(sql`${calledAe} = any(${tenantConfigs.calledAeTitles})`);
  if (!row) return null;
  return { slug: row.slug, allowedCallingAeTitles: row.allowed, privateSopClasses: row.privateSopClasses, suspended: row.suspendedAt ? { since: row.suspendedAt, reason: row.reason ?? "" } : null };
}
