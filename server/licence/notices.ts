import "server-only";
import { migrationNotices, tenants } from "@/db/schema";
import type { LicenceStatus } from "@/engine/api/contract";
import { systemContext } from "../context";
import { withSystem, withTenant } from "../db";
import type { EngineClient } from "../engine/client";
import { recordDeliveries } from "../webhooks/service";

/** Days before expiry at which the licence webhook fires (once each), then once more when it has expired. */
const THRESHOLDS = [30, 7];
/**
 * Licence notices are the deployment's, not a migration's: they are kept once-only in migration_notices under the
 * nil migration id, so several workers still announce each one once (the same ON CONFLICT as migration notices).
 */
export const DEPLOYMENT_NOTICE_ID = "00000000-0000-0000-0000-000000000000";

/** What a self-hosted licence should announce now: the tightest expiry threshold passed, or the expiry itself. */
export function licenceNoticeFor(s: LicenceStatus): { key: string; payload: Record<string, unknown> } | null {
  if (s.mode !== "self-hosted" || !s.licence?.expiresAt || s.daysToExpiry === null) return null;
  const base = { licensee: s.licence.licensee, deploymentId: s.licence.deploymentId, expiresAt: s.licence.expiresAt, daysToExpiry: s.daysToExpiry };
  if (s.status === "expired") return { key: `licence:${s.licence.expiresAt}:expired`, payload: { event: "licence.expired", ...base, message: s.message } };
  const passed = THRESHOLDS.filter((d) => s.daysToExpiry! <= d).at(-1);
  if (passed === undefined || s.status !== "valid") return null;
  return { key: `licence:${s.licence.expiresAt}:${passed}`, payload: { event: "licence.expiring", ...base, message: s.warning ?? s.message } };
}

/** The worker's pass: the engine's licence, its notice recorded once per tenant with that tenant's webhook deliveries. */
export async function announceLicenceNotices(engine: Pick<EngineClient, "licence">) {
  const notice = licenceNoticeFor(await engine.licence());
  if (!notice) return 0;
  const all = await withSystem((tx) => tx.select({ id: tenants.id, slug: tenants.slug }).from(tenants));
  let sent = 0;
  for (const t of all) {
    sent += await withTenant(systemContext(t.id), async (tx) => {
      const fresh = await tx.insert(migrationNotices).values({ tenantId: t.id, migrationId: DEPLOYMENT_NOTICE_ID, key: notice.key }).onConflictDoNothing().returning({ key: migrationNotices.key });
      return fresh.length ? recordDeliveries(tx, t.id, "licence", { ...notice.payload, tenant: t.slug }) : 0;
    });
  }
  return sent;
}
