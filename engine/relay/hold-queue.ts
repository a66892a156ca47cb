// The hold queue: each stored instance is a result that moves held → notified → pulled → acked (or expired /
// purged). Every transition writes its event to the outbox in the same transaction.
import { and, eq, inArray, isNotNull, like, lte, sql } from "drizzle-orm";
import type { BlobStore } from "../store/blob-store";
import type { EngineDb } from "../store/db";
import type { Keyring } from "../store/keyring";
import { LIVE_STATUSES, engineEvents, results } from "../store/schema";

type Tx = Parameters<Parameters<EngineDb["transaction"]>[0]>[0];
export type Result = typeof results.$inferSelect;
export type ResultStatus = Result["status"];

export type Received = Omit<Result, "status" | "expiresAt" | "statusChangedAt" | "pulledBy" | keyof typeof NO_DELIVERY_ATTEMPTS>;

/** A result just received (or replaced) has not been offered yet: no attempts, nothing failing (migration 0025). */
export const NO_DELIVERY_ATTEMPTS = { deliveryAttempts: 0, nextAttemptAt: null, lastFailureReason: null, deliveryFailingSince: null } as const;

async function event(tx: Tx, r: Pick<Result, "id" | "tenantSlug">, type: string, payload: Record<string, unknown> = {}) {
  await tx.insert(engineEvents).values({ tenantSlug: r.tenantSlug, type, payload: { resultId: r.id, ...payload } });
}

// Stored instances are recorded through the group commit in hold-queue-writer.ts (`hold_queue_write`, which runs
// `record_received` for each: TTL, replace-or-insert of the live result for the SOP instance, outbox event).

/**
 * Moves a result from one of `from` to `to`; returns null when it was not in such a state (so repeated calls are
 * harmless). With `dropBlob` the row forgets its bytes and `blobId` says which blob the caller should delete.
 */
export async function transition(
  db: EngineDb,
  where: { tenantSlug: string; id: string },
  from: ResultStatus[],
  to: ResultStatus,
  payload: Record<string, unknown> = {},
  opts: { dropBlob?: boolean; now?: Date; clearDeliveryFailure?: boolean } = {},
): Promise<{ result: Result; blobId: string | null } | null> {
  return db.transaction(async (tx) => {
    const now = opts.now ?? new Date();
    // By primary key alone, tenant and state checked on the row: with them in the WHERE the planner can pick the
    // (tenant, status, …) index, which walks every entry results ever left under that status until vacuum.
    const [current] = await tx.select().from(results).where(eq(results.id, where.id)).for("update");
    if (!current || current.tenantSlug !== where.tenantSlug || !from.includes(current.status)) return null;
    return moveLocked(tx, current, to, payload, { dropBlob: opts.dropBlob, now, clearDeliveryFailure: opts.clearDeliveryFailure });
  });
}

/** transition()'s change and event, for a row the caller's transaction has locked and checked. */
async function moveLocked(
  tx: Tx,
  current: Result,
  to: ResultStatus,
  payload: Record<string, unknown>,
  opts: { dropBlob?: boolean; now: Date; clearDeliveryFailure?: boolean },
) {
  // An ack ends the retries; the attempts and last reason stay on the row as history.
  const clear = opts.clearDeliveryFailure ? { nextAttemptAt: null, deliveryFailingSince: null } : {};
  const [row] = await tx
    .update(results)
    .set({ status: to, statusChangedAt: opts.now, ...(opts.dropBlob ? { blobId: null } : {}), ...clear })
    .where(eq(results.id, current.id))
    .returning();
  const cleared = opts.clearDeliveryFailure && current.deliveryFailingSince ? { deliveryFailingCleared: true, failingSince: current.deliveryFailingSince.toISOString() } : {};
  await event(tx, current, `result.${to}`, { from: current.status, ...payload, ...cleared });
  return { result: row!, blobId: current.blobId };
}

/**
 * The TTL purger's step: live results past their expiry are expired (event, bytes and row deleted); rows kept only
 * for their history (acked, purged) go when their TTL would have expired them. `now` comes from the caller's clock.
 */
export async function expireDue(db: EngineDb, now: Date, deleteBlob: (slug: string, blobId: string) => Promise<void>, batch = 500) {
  let expired = 0;
  for (;;) {
    const due = await db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(results)
        .where(lte(results.expiresAt, now))
        .orderBy(results.expiresAt)
        .limit(batch)
        .for("update", { skipLocked: true });
      for (const r of rows) {
        if ((LIVE_STATUSES as readonly string[]).includes(r.status)) {
          await event(tx, r, "result.expired", { status: r.status, expiresAt: r.expiresAt.toISOString() });
          expired++;
        }
      }
      if (rows.length) await tx.delete(results).where(inArray(results.id, rows.map((r) => r.id)));
      return rows;
    });
    for (const r of due) if (r.blobId) await deleteBlob(r.tenantSlug, r.blobId);
    if (due.length < batch) return expired;
  }
}

/** The segments (BlobStore's small-blob files) that a tenant's results still refer to. */
export async function liveSegments(db: EngineDb, slug: string) {
  const rows = await db
    .selectDistinct({ segment: sql<string>`split_part(${results.blobId}, '.', 1)` })
    .from(results)
    .where(and(eq(results.tenantSlug, slug), like(results.blobId, "%.%")));
  return new Set(rows.map((r) => r.segment));
}

/** A tenant's TTL changed: every result still in the queue gets expires_at = received_at + the new TTL. */
export async function recomputeExpiry(tx: Tx, slug: string, ttlDays: number) {
  await tx
    .update(results)
    .set({ expiresAt: sql`${results.receivedAt} + make_interval(days => ${ttlDays})` })
    .where(eq(results.tenantSlug, slug));
}

/** The effect of a TTL of `ttlDays` on the tenant's live results, as of `now`, in one pass over the queue. */
export async function previewRetention(db: EngineDb, slug: string, ttlDays: number, now: Date) {
  const next = sql`${results.receivedAt} + make_interval(days => ${ttlDays})`;
  const nowTs = sql`${now.toISOString()}::timestamptz`;
  const [row] = await db
    .select({
      live: sql<number>`count(*)::int`,
      expireImmediately: sql<number>`(count(*) filter (where ${next} <= ${nowTs}))::int`,
      gainTime: sql<number>`(count(*) filter (where ${next} > ${results.expiresAt}))::int`,
      loseTime: sql<number>`(count(*) filter (where ${next} < ${results.expiresAt} and ${next} > ${nowTs}))::int`,
    })
    .from(results)
    .where(and(eq(results.tenantSlug, slug), inArray(results.status, [...LIVE_STATUSES])));
  const r = row!;
  return { ttlDays, ...r, unchanged: r.live - r.expireImmediately - r.gainTime - r.loseTime };
}

/** What a result.replaced event keeps of the version it replaced (migration 0016). */
type PreviousVersion = {
  sha256: string;
  sizeBytes: number;
  status: ResultStatus;
  blobId: string | null;
  callingAe: string;
  calledAe: string;
  peerAddress: string;
  sopClassUid: string;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  modality: string | null;
  transferSyntaxUid: string;
  receivedAt: string;
  expiresAt: string;
  statusChangedAt: string;
};

/**
 * A stored instance whose row committed but whose bytes never became durable (the engine stopped during the sync,
 * or the sync failed): its C-STORE was never confirmed. If it replaced a confirmed version whose blob is still
 * there (that blob is deleted only once the replacement is durable), that version comes back ("restored");
 * otherwise the result is purged with the reason. Either way with its event, in one transaction; null when the
 * result no longer points at that blob.
 */
export async function undoUnconfirmed(
  db: EngineDb,
  r: { tenantSlug: string; id: string; blobId: string },
  blobExists: (blobId: string) => Promise<boolean>,
  reason: string,
  now: Date,
): Promise<"restored" | "purged" | null> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(results).where(eq(results.id, r.id)).for("update");
    if (!current || current.tenantSlug !== r.tenantSlug || current.blobId !== r.blobId || !LIVE_STATUSES.includes(current.status as never)) return null;
    const [last] = await tx
      .select({ type: engineEvents.type, payload: engineEvents.payload })
      .from(engineEvents)
      .where(and(sql`${engineEvents.payload}->>'resultId' = ${r.id}`, inArray(engineEvents.type, ["result.received", "result.replaced"])))
      .orderBy(sql`${engineEvents.id} desc`)
      .limit(1);
    const previous = last?.type === "result.replaced" ? ((last.payload as { previous?: Partial<PreviousVersion> }).previous ?? null) : null;
    if (previous?.blobId && previous.sha256 && previous.receivedAt && (await blobExists(previous.blobId))) {
      const p = previous as PreviousVersion;
      await tx
        .update(results)
        .set({
          sha256: p.sha256,
          sizeBytes: p.sizeBytes,
          status: p.status,
          blobId: p.blobId,
          callingAe: p.callingAe,
          calledAe: p.calledAe,
          peerAddress: p.peerAddress,
          sopClassUid: p.sopClassUid,
          studyInstanceUid: p.studyInstanceUid,
          seriesInstanceUid: p.seriesInstanceUid,
          modality: p.modality,
          transferSyntaxUid: p.transferSyntaxUid,
          receivedAt: new Date(p.receivedAt),
          expiresAt: new Date(p.expiresAt),
          statusChangedAt: new Date(p.statusChangedAt),
        })
        .where(eq(results.id, r.id));
      await event(tx, current, "result.restored", { reason, unconfirmed: { sha256: current.sha256, sizeBytes: current.sizeBytes }, sha256: p.sha256, status: p.status });
      return "restored";
    }
    await moveLocked(tx, current, "purged", { reason }, { dropBlob: true, now });
    return "purged";
  });
}

/**
 * At start-up: ingest commits a result's row while its blob is synced, so an engine that stopped in between left
 * a row whose blob is still <id>.partial, or in a segment still open (BlobStore.recover). A complete one (it
 * decrypts, the tag checks out) is kept; an incomplete one means the C-STORE was never confirmed, and the result
 * is purged with the reason (or the version it replaced comes back). A live row with no blob file at all is left
 * alone and counted (a wrong blob directory must not purge the queue).
 */
export async function recoverUndurableResults(db: EngineDb, blobs: BlobStore, keyring: Keyring, now: Date) {
  const counts = { kept: 0, purged: 0, restored: 0, missing: 0 };
  const rows = await db
    .select({ id: results.id, tenantSlug: results.tenantSlug, blobId: results.blobId })
    .from(results)
    .where(and(inArray(results.status, [...LIVE_STATUSES]), isNotNull(results.blobId)));
  for (let i = 0; i < rows.length; i += 64) {
    await Promise.all(
      rows.slice(i, i + 64).map(async (r) => {
        const outcome = await blobs.recover(() => keyring.dataKey(r.tenantSlug), r.tenantSlug, r.blobId!);
        if (outcome === "in place") return;
        if (outcome === "kept") counts.kept++;
        else if (outcome === "absent") counts.missing++;
        else {
          const reason = "engine stopped before the stored bytes were durable; the C-STORE was never confirmed";
          const undone = await undoUnconfirmed(db, { tenantSlug: r.tenantSlug, id: r.id, blobId: r.blobId! }, (b) => blobs.exists(r.tenantSlug, b), reason, now);
          if (undone) counts[undone]++;
        }
      }),
    );
  }
  return counts;
}
