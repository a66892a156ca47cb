// Group commit for the hold queue. Every write the ingest path makes (a received instance, or a result moved
// held → notified after a router was told of it) joins a batch; a batch is one statement (`hold_queue_write`,
// engine/store/migrations) and one commit, and at most one batch of each kind is in flight. Instances that arrive
// together on many associations share a commit.
// Notified marks gather for MARK_LINGER_MS and go in a statement of their own, with an asynchronous commit (see
// migration 0015), never in a received batch: a received batch is what notify latency waits for, and marks riding
// along made it up to twice as long. With four associations, that put notify latency's p99 at 36–172 ms against
// 17–37 ms with marks on their own (bench:relay, paired rounds, four runs); with one association the rate was the
// same (1.04×, 12 rounds).
import type { EngineDb } from "../store/db";
import { NO_DELIVERY_ATTEMPTS, type Received, type Result } from "./hold-queue";

/** Items per statement; more wait for the next batch. */
const MAX_BATCH = 256;
/** How long notified marks gather before they are written (together). */
const MARK_LINGER_MS = 10;

const WRITE_SQL = "select * from hold_queue_write($1::text::jsonb, $2::text::jsonb)";

type Deferred<T> = { resolve: (v: T) => void; reject: (e: unknown) => void };
type ReceivedItem = { r: Received; d: Deferred<{ result: Result; replacedBlobId: string | null }>; settled: Promise<unknown> };
type NotifiedItem = { id: string; tenant: string; router: string; at: Date; d: Deferred<void>; promise: Promise<void>; settled: Promise<unknown> };

/** A promise and its settle functions; `settled` resolves either way (for settle()). */
function deferred<T>() {
  let d!: Deferred<T>;
  const promise = new Promise<T>((resolve, reject) => (d = { resolve, reject }));
  return { d, promise, settled: promise.then(() => {}, () => {}) };
}

/** Items queue while a batch is in flight and go together in the next one; a failed batch rejects its items. */
function lane<T extends { d: { reject: (e: unknown) => void }; settled: Promise<unknown> }>(write: (batch: T[]) => Promise<void>) {
  const queued: T[] = [];
  let inFlight: Promise<void> | null = null;
  const start = () => {
    if (inFlight || !queued.length) return;
    const batch = queued.splice(0, MAX_BATCH);
    inFlight = write(batch)
      .catch((e) => {
        for (const x of batch) x.d.reject(e); // settles only the ones still pending
      })
      .then(() => {
        inFlight = null;
        start();
      });
  };
  return {
    push(items: T[]) {
      queued.push(...items);
      start();
    },
    /** Resolves once everything queued so far has been written (or failed). */
    async settle() {
      await Promise.all([...queued.map((x) => x.settled), inFlight]);
    },
  };
}
export type HoldQueueWriter = ReturnType<typeof createHoldQueueWriter>;

export function createHoldQueueWriter(db: EngineDb) {
  let closed = false;
  async function write(recv: ReceivedItem[], noti: NotifiedItem[]) {
    const items = recv.map(({ r }) => ({
      id: r.id,
      tenant: r.tenantSlug,
      calling: r.callingAe,
      called: r.calledAe,
      peer: r.peerAddress,
      sopClass: r.sopClassUid,
      sopInstance: r.sopInstanceUid,
      study: r.studyInstanceUid,
      series: r.seriesInstanceUid,
      modality: r.modality,
      ts: r.transferSyntaxUid,
      size: r.sizeBytes,
      sha: r.sha256,
      blob: r.blobId,
      received: r.receivedAt.toISOString(),
      meta: {
        callingAe: r.callingAe,
        calledAe: r.calledAe,
        peerAddress: r.peerAddress,
        sopClassUid: r.sopClassUid,
        modality: r.modality,
        studyInstanceUid: r.studyInstanceUid,
        seriesInstanceUid: r.seriesInstanceUid,
        transferSyntaxUid: r.transferSyntaxUid,
        sizeBytes: r.sizeBytes,
        sha256: r.sha256,
      },
    }));
    const marks = noti.map((n) => ({ id: n.id, tenant: n.tenant, router: n.router, at: n.at.toISOString() }));
    let rows: { item_index: number; item_result_id: string | null; item_replaced_blob_id: string | null; item_expires_at: string | Date | null; item_error: string | null }[];
    try {
      // A named prepared statement: one round trip per batch (drizzle's execute describes every parameterized
      // statement first, which is a second round trip).
      rows = await db.$client.unsafe(WRITE_SQL, [JSON.stringify(items), JSON.stringify(marks)], { prepare: true });
    } catch (e) {
      for (const x of recv) x.d.reject(e);
      for (const n of noti) n.d.reject(e);
      return;
    }
    for (const n of noti) n.d.resolve();
    for (const row of rows) {
      const x = recv[row.item_index]!;
      if (row.item_error !== null || !row.item_result_id) {
        x.d.reject(new Error(row.item_error ?? "hold_queue_write returned no result"));
        continue;
      }
      const result: Result = { ...x.r, ...NO_DELIVERY_ATTEMPTS, id: row.item_result_id, status: "held", pulledBy: null, expiresAt: new Date(row.item_expires_at!), statusChangedAt: x.r.receivedAt };
      x.d.resolve({ result, replacedBlobId: row.item_replaced_blob_id });
    }
    for (let i = rows.length; i < recv.length; i++) recv[i]!.d.reject(new Error("hold_queue_write returned too few rows"));
  }

  /** Marks waiting for the linger timer. */
  const marks: NotifiedItem[] = [];
  let lingering: NodeJS.Timeout | null = null;
  const receivedLane = lane<ReceivedItem>((batch) => write(batch, []));
  const notifiedLane = lane<NotifiedItem>((batch) => write([], batch));
  function flushMarks() {
    if (lingering) clearTimeout(lingering);
    lingering = null;
    notifiedLane.push(marks.splice(0));
  }

  return {
    /**
     * Records a stored instance as a held result (replacing a live one for the same SOP instance in the tenant);
     * resolves once its batch has committed, with the blob of a replaced result for the caller to delete.
     */
    record(r: Received): Promise<{ result: Result; replacedBlobId: string | null }> {
      if (closed) return Promise.reject(new Error("hold queue writer closed"));
      const { d, promise, settled } = deferred<{ result: Result; replacedBlobId: string | null }>();
      receivedLane.push([{ r, d, settled }]);
      return promise;
    },
    /** Moves results that were just pushed to a router from held to notified (others are left alone). */
    markNotified(rows: Pick<Result, "id" | "tenantSlug" | "status">[], routerId: string, at: Date): Promise<void> {
      const held = rows.filter((r) => r.status === "held");
      if (!held.length) return Promise.resolve();
      if (closed) return Promise.reject(new Error("hold queue writer closed"));
      const items = held.map((r) => ({ id: r.id, tenant: r.tenantSlug, router: routerId, at, ...deferred<void>() }));
      marks.push(...items);
      lingering ??= setTimeout(flushMarks, MARK_LINGER_MS);
      return Promise.all(items.map((x) => x.promise)).then(() => {});
    },
    /** Resolves once everything queued so far has committed (or failed); lingering marks go at once. */
    async settle() {
      if (marks.length) flushMarks();
      await Promise.all([receivedLane.settle(), notifiedLane.settle()]);
    },
    /** Writes what is queued, then refuses new work. */
    async close() {
      await this.settle();
      closed = true;
    },
  };
}
