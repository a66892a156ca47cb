// What a licence's limits are measured against, from the engine's own tables: routers enrolled and not revoked
// plus enrolment codes still waiting for their router (across tenants), tenants the console has configured here, and bytes migrated (verified at a target) by every
// migration, from the daily roll-up so the count costs one small scan rather than one over instances.
import { and, count, gt, isNull, sql, sum } from "drizzle-orm";
import type { EngineDb } from "../store/db";
import { migrationDaily, routerCerts, routerEnrolments, tenantConfigs } from "../store/schema";

export const BYTES_PER_TB = 1e12;

export type LicenceUsage = { routers: number; tenants: number; migratedTb: number };

export async function licenceUsage(db: EngineDb): Promise<LicenceUsage> {
  const [[routers], [codes], [tenants], [bytes]] = await Promise.all([
    db.select({ n: count() }).from(routerCerts).where(isNull(routerCerts.revokedAt)),
    db.select({ n: count() }).from(routerEnrolments).where(and(isNull(routerEnrolments.usedAt), gt(routerEnrolments.expiresAt, sql`now()`))),
    db.select({ n: count() }).from(tenantConfigs),
    db.select({ n: sum(migrationDaily.bytes) }).from(migrationDaily),
  ]);
  return { routers: (routers?.n ?? 0) + (codes?.n ?? 0), tenants: tenants?.n ?? 0, migratedTb: Number(bytes?.n ?? 0) / BYTES_PER_TB };
}
