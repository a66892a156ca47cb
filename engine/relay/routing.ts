import { sql } from "drizzle-orm";
import type { EngineDb } from "../store/db";
import { tenantConfigs } from "../store/schema";
import type { TenantRoute } from "../dicom/scp";

/** The tenant whose applied config lists this called AE title (AE titles compare exactly, after trimming). */
export async function routeCalledAe(db: EngineDb, calledAe: string): Promise<TenantRoute | null> {
  const [row] = await db
    .select({ slug: tenantConfigs.slug, allowed: tenantConfigs.allowedCallingAeTitles })
    .from(tenantConfigs)
    .where(sql`${calledAe} = any(${tenantConfigs.calledAeTitles})`);
  return row ? { slug: row.slug, allowedCallingAeTitles: row.allowed } : null;
}
