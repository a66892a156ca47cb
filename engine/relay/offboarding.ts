// Offboarding a tenant: everything the engine holds for it goes, with a receipt, and its data key is destroyed so
// no byte left behind (a segment not yet collected, a backup) can be read again. The outbox keeps the events.
import { and, eq, inArray, isNull } from "drizzle-orm";
import type { OffboardReceipt } from "../api/contract";
import type { BlobStore } from "../store/blob-store";
import type { EngineDb } from "../store/db";
import type { Keyring } from "../store/keyring";
import { quarantineEvidence } from "../store/quarantine-schema";
import { LIVE_STATUSES, engineEvents, migrationStudies, migrations, offboardedTenants, results, routerCerts, routerEnrolments, tenantConfigs, tenantKeys } from "../store/schema";
import { liveSegments } from "./hold-queue";

/** Offboarding refused: the tenant is not suspended, or a migration of its is running. */
export class OffboardRefusedError extends Error {}

/** No such tenant here: never configured (so an unknown slug is not taken for good by mistake). */
export class UnknownTenantError extends Error {}

const ACTIVE_MIGRATIONS = ["discovering", "running"] as const;

type Deps = { db: EngineDb; blobs: BlobStore; keyring: Keyring; disconnect: (routerId: string) => void; now: () => Date };

/** The receipt of a tenant already offboarded, if it is. */
export async function offboardedReceipt(db: EngineDb, slug: string): Promise<OffboardReceipt | null> {
  const [row] = await db.select().from(offboardedTenants).where(eq(offboardedTenants.slug, slug));
  return row ? (row.receipt as OffboardReceipt) : null;
}

/**
 * Offboards a suspended tenant. Each step is its own transaction with its events, and the record that the tenant
 * is offboarded is written last, so a run cut short is finished by the next call; a call after that returns the
 * same receipt.
 */
export async function offboardTenant(deps: Deps, slug: string, reason: string): Promise<OffboardReceipt> {
  const done = await offboardedReceipt(deps.db, slug);
  if (done) return done;
  const [config] = await deps.db.select().from(tenantConfigs).where(eq(tenantConfigs.slug, slug));
  // The config goes only in the transaction that records the offboarding, so none (and no record) means never here.
  if (!config) throw new UnknownTenantError(`No tenant ${slug} is configured in this engine.`);
  if (!config.suspendedAt) throw new OffboardRefusedError(`Tenant ${slug} is not suspended: suspend it first, so nothing new arrives while it is offboarded.`);
  const [active] = await deps.db
    .select({ id: migrations.id, status: migrations.status })
    .from(migrations)
    .where(and(eq(migrations.tenantSlug, slug), inArray(migrations.status, [...ACTIVE_MIGRATIONS])));
  if (active) throw new OffboardRefusedError(`Migration ${active.id} of tenant ${slug} is ${active.status}: pause it first.`);

  const routersRevoked = await revokeAll(deps, slug);
  const resultsPurged = await purgeLive(deps, slug, `tenant offboarded: ${reason}`);
  const evidenceDeleted = await deleteEvidence(deps, slug);
  const migrationsDeleted = await deleteMigrations(deps.db, slug);
  // Segment files whose regions all belonged to purged results go now; anything else is unreadable once the key is.
  await deps.blobs.collectSegments((s) => liveSegments(deps.db, s));

  const receipt: OffboardReceipt = {
    slug,
    offboardedAt: deps.now().toISOString(),
    reason,
    resultsPurged,
    evidenceDeleted,
    migrationsDeleted,
    routersRevoked,
    dataKeyDestroyed: true,
  };
  await deps.db.transaction(async (tx) => {
    await tx.delete(tenantConfigs).where(eq(tenantConfigs.slug, slug));
    await tx.delete(tenantKeys).where(eq(tenantKeys.slug, slug));
    await tx.insert(offboardedTenants).values({ slug, reason, receipt, offboardedAt: new Date(receipt.offboardedAt) });
    await tx.insert(engineEvents).values({ tenantSlug: slug, type: "tenant.offboarded", payload: receipt });
  });
  deps.keyring.forget(slug);
  return receipt;
}

async function revokeAll(deps: Deps, slug: string) {
  const revoked = await deps.db.transaction(async (tx) => {
    const rows = await tx
      .update(routerCerts)
      .set({ revokedAt: deps.now() })
      .where(and(eq(routerCerts.tenantSlug, slug), isNull(routerCerts.revokedAt)))
      .returning({ id: routerCerts.id, name: routerCerts.name });
    if (rows.length)
      await tx.insert(engineEvents).values(rows.map((r) => ({ tenantSlug: slug, type: "router.revoked", payload: { routerId: r.id, name: r.name, reason: "tenant offboarded" } })));
    // Codes not used yet can no longer enrol a router.
    await tx.delete(routerEnrolments).where(and(eq(routerEnrolments.tenantSlug, slug), isNull(routerEnrolments.usedAt)));
    return rows;
  });
  for (const r of revoked) deps.disconnect(r.id);
  return revoked.length;
}

/** Every live result becomes purged (its event, with the reason, in the same transaction), in batches. */
async function purgeLive(deps: Deps, slug: string, reason: string, batch = 500) {
  let purged = 0;
  for (;;) {
    const rows = await deps.db.transaction(async (tx) => {
      const due = await tx
        .select({ id: results.id, status: results.status, blobId: results.blobId })
        .from(results)
        .where(and(eq(results.tenantSlug, slug), inArray(results.status, [...LIVE_STATUSES])))
        .limit(batch)
        .for("update");
      if (!due.length) return due;
      await tx
        .update(results)
        .set({ status: "purged", statusChangedAt: deps.now(), blobId: null })
        .where(inArray(results.id, due.map((r) => r.id)));
      await tx.insert(engineEvents).values(due.map((r) => ({ tenantSlug: slug, type: "result.purged", payload: { resultId: r.id, from: r.status, reason } })));
      return due;
    });
    for (const r of rows) if (r.blobId) await deps.blobs.delete(slug, r.blobId);
    purged += rows.length;
    if (rows.length < batch) return purged;
  }
}

async function deleteEvidence(deps: Deps, slug: string) {
  const rows = await deps.db.delete(quarantineEvidence).where(eq(quarantineEvidence.tenantSlug, slug)).returning({ blobId: quarantineEvidence.blobId });
  for (const r of rows) await deps.blobs.delete(slug, r.blobId);
  if (rows.length) await deps.db.insert(engineEvents).values({ tenantSlug: slug, type: "quarantine.evidence_deleted", payload: { instances: rows.length, reason: "tenant offboarded" } });
  return rows.length;
}

/** A tenant's migrations with everything under them (studies first, so the rollup triggers see their migration). */
async function deleteMigrations(db: EngineDb, slug: string) {
  return db.transaction(async (tx) => {
    const ids = (await tx.select({ id: migrations.id }).from(migrations).where(eq(migrations.tenantSlug, slug))).map((m) => m.id);
    if (!ids.length) return 0;
    await tx.delete(migrationStudies).where(inArray(migrationStudies.migrationId, ids));
    await tx.delete(migrations).where(inArray(migrations.id, ids));
    await tx.insert(engineEvents).values({ tenantSlug: slug, type: "migration.deleted", payload: { migrationIds: ids, reason: "tenant offboarded" } });
    return ids.length;
  });
}
