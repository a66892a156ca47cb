// Stored instances become held results. A small instance's blob is stored with its record (blob-store.ts), so its
// C-STORE is confirmed as soon as the blob is durable and its row is written just after, off the vendor's path
// (waiting for the row's commit as well cost about a quarter of the ingest rate; bench:relay). A row that fails is
// retried; if the engine stops first, the next start records the blob from its record (recoverUnrecorded). The
// association's release waits for its rows (scp.ts), so a vendor that has released finds its results listed. A
// large instance's C-STORE waits for both, as its blob has no record.
import { and, eq, gte } from "drizzle-orm";
import { z } from "zod";
import type { StoredInstance } from "../dicom/scp";
import type { BlobStore } from "../store/blob-store";
import type { EngineDb } from "../store/db";
import type { Keyring } from "../store/keyring";
import type { Metrics } from "../metrics";
import { results, tenantConfigs } from "../store/schema";
import { parseSegmentRef } from "../store/segments";
import { undoUnconfirmed, type Received, type Result } from "./hold-queue";
import type { HoldQueueWriter } from "./hold-queue-writer";

/** Waits before retrying a confirmed instance's row; after the last, the next start records it. */
const RETRY_DELAYS_MS = [100, 500, 2000, 5000, 15_000];

type Recorded = { result: Result; replacedBlobId: string | null };

type IngestDeps = {
  db: EngineDb;
  blobs: BlobStore;
  holdQueue: HoldQueueWriter;
  metrics: Metrics;
  /** tells the tenant's connected routers (after commit) */
  notify: (result: Result, storedAt: number) => Promise<unknown>;
  log: (m: string) => void;
  now: () => Date;
};

const received = (s: StoredInstance): Received => ({
  id: s.id,
  tenantSlug: s.tenantSlug,
  callingAe: s.callingAe,
  calledAe: s.calledAe,
  peerAddress: s.peerAddress,
  sopClassUid: s.sopClassUid,
  sopInstanceUid: s.sopInstanceUid,
  transferSyntaxUid: s.transferSyntaxUid,
  sizeBytes: s.sizeBytes,
  sha256: s.sha256,
  blobId: s.blobId,
  receivedAt: s.receivedAt,
  ...s.header,
});

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function createIngest(deps: IngestDeps) {
  const { db, blobs, holdQueue, metrics, log } = deps;
  let stopping = false;

  /** After the row committed: the replaced version's bytes go, and routers hear of it within the same second. */
  async function committed(s: StoredInstance, { result, replacedBlobId }: Recorded) {
    if (replacedBlobId && replacedBlobId !== s.blobId) await blobs.delete(s.tenantSlug, replacedBlobId);
    metrics.received.inc({ tenant: s.tenantSlug });
    metrics.receivedBytes.inc({ tenant: s.tenantSlug }, s.sizeBytes);
    const storedAt = performance.now();
    // The push (a TLS write per router) goes after the C-STORE response; a failed one is retried on reconnect.
    setImmediate(() => void deps.notify(result, storedAt).catch((e) => log(`notify failed: ${message(e)}`)));
  }

  /**
   * The confirmed instance's row, retried while it fails: a batch whose reply was lost may have committed (then it
   * is recorded), and a later version of the SOP instance may have been recorded meanwhile (then this one is not
   * wanted: null).
   */
  async function persist(s: StoredInstance, first: Promise<Recorded>): Promise<Recorded | null> {
    let attempt = first;
    for (let i = 0; ; i++) {
      try {
        return await attempt;
      } catch (e) {
        if (stopping || i >= RETRY_DELAYS_MS.length) throw e;
        log(`result for ${s.sopInstanceUid} (${s.tenantSlug}) not recorded yet: ${message(e)}; retrying in ${RETRY_DELAYS_MS[i]} ms`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[i]).unref());
        const since = await db
          .select()
          .from(results)
          .where(and(eq(results.tenantSlug, s.tenantSlug), eq(results.sopInstanceUid, s.sopInstanceUid), gte(results.receivedAt, s.receivedAt)))
          .catch((err: unknown) => err as Error);
        if (since instanceof Error) {
          attempt = Promise.reject(since);
          continue;
        }
        const mine = since.find((r) => r.blobId === s.blobId);
        if (mine) return { result: mine, replacedBlobId: null };
        if (since.some((r) => r.receivedAt > s.receivedAt)) return null;
        attempt = holdQueue.record(received(s));
      }
    }
  }

  /** A confirmed version whose row came too late: a later one is recorded already, so its bytes go. */
  async function superseded(s: StoredInstance) {
    log(`result for ${s.sopInstanceUid} (${s.tenantSlug}) received at ${s.receivedAt.toISOString()} was replaced by a later version before its row committed; its bytes are deleted`);
    await blobs.delete(s.tenantSlug, s.blobId);
  }

  return {
    /** ScpDeps.onStored: resolves once the C-STORE can be confirmed; `recorded` once its row has committed. */
    async onStored(s: StoredInstance): Promise<{ recorded: Promise<void> }> {
      if (s.recoverable) {
        // Durable first (a failure leaves nothing to undo); the row's statement goes out after the C-STORE response
        // (setImmediate), so the vendor's next instance does not wait for it either.
        await s.durable;
        const recorded = new Promise((resolve) => setImmediate(resolve))
          .then(() => persist(s, holdQueue.record(received(s))))
          .then((r) => (r ? committed(s, r) : superseded(s)));
        recorded.catch((e) => log(`result for ${s.sopInstanceUid} (${s.tenantSlug}) not recorded: ${message(e)}; it will be at the next start`));
        return { recorded };
      }
      const recording = holdQueue.record(received(s));
      // The row commits while the blob's fsync runs; the C-STORE is confirmed only once both are durable.
      const [rec, durable] = await Promise.allSettled([recording, s.durable]);
      if (rec.status === "rejected") throw rec.reason;
      if (durable.status === "rejected") {
        // The bytes never became durable: the vendor is told to retry, and the committed row is undone (a version
        // it replaced comes back, else it is purged).
        await undoUnconfirmed(db, { tenantSlug: s.tenantSlug, id: rec.value.result.id, blobId: s.blobId }, (b) => blobs.exists(s.tenantSlug, b), "stored bytes could not be made durable", deps.now());
        throw durable.reason;
      }
      await committed(s, rec.value);
      return { recorded: Promise.resolve() };
    },
    /** At shutdown: rows that still fail are left to the next start. */
    stop() {
      stopping = true;
    },
  };
}

/** A small blob's record (StoredRecord in scp.ts, plus size and hash), as read back at start-up. */
const storedRecord = z.object({
  id: z.string().uuid(),
  tenantSlug: z.string(),
  callingAe: z.string(),
  calledAe: z.string(),
  peerAddress: z.string(),
  sopClassUid: z.string(),
  sopInstanceUid: z.string().min(1),
  transferSyntaxUid: z.string(),
  studyInstanceUid: z.string().nullable(),
  seriesInstanceUid: z.string().nullable(),
  modality: z.string().nullable(),
  receivedAt: z.string().datetime({ offset: true }),
  sizeBytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/**
 * At start-up, before vendors or routers connect: small blobs whose C-STORE was confirmed but whose row never
 * committed (the engine stopped in between) are recorded from their records, in the order they arrived. A blob
 * with no row because its result was replaced, acked, purged or expired meanwhile is deleted instead.
 */
export async function recoverUnrecorded(db: EngineDb, blobs: BlobStore, keyring: Keyring, holdQueue: HoldQueueWriter, now: Date, log: (m: string) => void) {
  /** `keepOpen`: segments holding a confirmed blob that could not be recorded now, which must not be sealed */
  const counts = { recorded: 0, dropped: 0, keepOpen: new Set<string>() };
  const found = await blobs.recordedInOpenSegments((slug) => keyring.dataKey(slug));
  const candidates = found
    .map((f) => ({ ...f, parsed: storedRecord.safeParse(f.record) }))
    .filter((f) => {
      if (f.parsed.success && f.parsed.data.tenantSlug === f.slug) return true;
      log(`start-up blob check: blob ${f.blobId} of ${f.slug} has no usable record; left as it is`);
      return false;
    })
    .map((f) => ({ blobId: f.blobId, r: f.parsed.data! }))
    .sort((a, b) => Date.parse(a.r.receivedAt) - Date.parse(b.r.receivedAt));
  for (const { blobId, r } of candidates) {
    const receivedAt = new Date(r.receivedAt);
    const rows = await db
      .select({ blobId: results.blobId })
      .from(results)
      .where(and(eq(results.tenantSlug, r.tenantSlug), eq(results.sopInstanceUid, r.sopInstanceUid), gte(results.receivedAt, receivedAt)));
    if (rows.some((x) => x.blobId === blobId)) continue; // recorded
    const [tenant] = await db.select({ ttlDays: tenantConfigs.ttlDays }).from(tenantConfigs).where(eq(tenantConfigs.slug, r.tenantSlug));
    const expired = tenant && receivedAt.getTime() + tenant.ttlDays * 86_400_000 <= now.getTime();
    if (rows.length || expired) {
      // A later version replaced it, or its result was acked, purged or expired: its bytes are not wanted.
      await blobs.delete(r.tenantSlug, blobId);
      counts.dropped++;
      continue;
    }
    try {
      const { result, replacedBlobId } = await holdQueue.record({ ...r, blobId, receivedAt });
      if (replacedBlobId && replacedBlobId !== blobId) await blobs.delete(r.tenantSlug, replacedBlobId);
      log(`start-up blob check: recorded result ${result.id} (${r.sopInstanceUid}) whose row was lost when the engine stopped`);
      counts.recorded++;
    } catch (e) {
      // Its segment stays open (the caller's sweep skips it however old it is), so the next start tries again.
      const segment = parseSegmentRef(blobId)?.segment;
      if (segment) counts.keepOpen.add(`${r.tenantSlug}/${segment}`);
      log(`start-up blob check: could not record ${r.sopInstanceUid} of ${r.tenantSlug}: ${message(e)}; it is tried again at the next start`);
    }
  }
  return counts;
}
