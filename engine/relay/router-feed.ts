// What one router connection is offered, and when. The tenant's live results are notified in pages read from the
// database by (received_at, id), never all at once: at most `window` results are outstanding (offered, not yet
// acked, nacked-and-waiting or refused), and the next page goes once the router has worked through enough of them.
// A result stored meanwhile is pushed at once if the backlog is drained, or left to the scan, which reaches it in
// order. A nacked result stays outstanding and is offered again when its backoff ends.
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Pending, ServerMessage } from "../router-agent/protocol";
import type { EngineDb } from "../store/db";
import { LIVE_STATUSES, results } from "../store/schema";
import type { Result } from "./hold-queue";

export const toPending = (r: Result): Pending => ({
  id: r.id,
  sopInstanceUid: r.sopInstanceUid,
  sopClassUid: r.sopClassUid,
  transferSyntaxUid: r.transferSyntaxUid,
  sizeBytes: r.sizeBytes,
  sha256: r.sha256,
  receivedAt: r.receivedAt.toISOString(),
});

type Key = { at: Date; id: string };
const after = (r: Result, k: Key) => r.receivedAt.getTime() > k.at.getTime() || (r.receivedAt.getTime() === k.at.getTime() && r.id > k.id);

export type RouterFeed = ReturnType<typeof createRouterFeed>;

export function createRouterFeed(deps: {
  db: EngineDb;
  tenant: string;
  /** only results sent to these called AE titles (empty: all) */
  calledAeTitles: string[];
  page: number;
  window: number;
  now: () => Date;
  /** sends a frame, resolving when the socket can take more (ws-send.ts) */
  send: (m: ServerMessage) => Promise<void>;
  /** held → notified, once a router has been told */
  markNotified: (rows: Result[]) => void;
  log: (m: string) => void;
}) {
  /** Outstanding results, each with the version it was offered as (a replacing C-STORE makes a new one). */
  const outstanding = new Map<string, string>();
  const version = (r: Result) => `${r.sha256}|${r.receivedAt.getTime()}`;
  const retries = new Map<string, NodeJS.Timeout>();
  /** The last result the scan read; null before the first page. */
  let cursor: Key | null = null;
  /** False once a scan found nothing further; set again by a result the scan must still reach. */
  let more = true;
  /** Bumped whenever a new result is left to the scan, so a scan that raced with it looks once more. */
  let leftToScan = 0;
  let filling: Promise<void> | null = null;
  /** Nothing is sent before the gateway has said hello (and checked the tenant is not suspended). */
  let started = false;
  let closed = false;

  async function offer(rows: Result[]) {
    if (!rows.length || closed) return;
    for (const r of rows) outstanding.set(r.id, version(r));
    await deps.send({ type: "notify", results: rows.map(toPending) });
    deps.markNotified(rows);
  }

  async function nextPage(limit: number) {
    const page = await deps.db
      .select()
      .from(results)
      .where(
        and(
          eq(results.tenantSlug, deps.tenant),
          inArray(results.status, [...LIVE_STATUSES]),
          deps.calledAeTitles.length ? inArray(results.calledAe, deps.calledAeTitles) : undefined,
          cursor ? sql`(${results.receivedAt}, ${results.id}) > (${cursor.at.toISOString()}::timestamptz, ${cursor.id}::uuid)` : undefined,
        ),
      )
      .orderBy(asc(results.receivedAt), asc(results.id))
      .limit(limit);
    return page;
  }

  async function scan() {
    const full = Math.min(deps.page, deps.window);
    while (!closed && more && deps.window - outstanding.size >= full) {
      const seen = leftToScan;
      const rows = await nextPage(full);
      if (closed) return;
      const last = rows[rows.length - 1];
      if (last) cursor = { at: last.receivedAt, id: last.id };
      if (rows.length < full && seen === leftToScan) more = false;
      const now = deps.now().getTime();
      const due: Result[] = [];
      for (const r of rows) {
        if (outstanding.has(r.id)) continue; // pushed on arrival, or waiting for its retry
        // A result nacked on an earlier connection waits out its backoff here too.
        const wait = r.nextAttemptAt ? r.nextAttemptAt.getTime() - now : 0;
        if (wait > 0) {
          outstanding.set(r.id, version(r));
          retryIn(r.id, wait);
        } else due.push(r);
      }
      await offer(due);
    }
  }

  /** Runs the scan; one at a time, and again if asked while one runs. */
  function fill(): Promise<void> {
    if (filling) return filling;
    filling = scan()
      .catch((e) => void (closed || deps.log(`gateway: notifying ${deps.tenant} failed: ${e instanceof Error ? e.message : e}`)))
      .finally(() => (filling = null));
    return filling;
  }

  function retryIn(id: string, ms: number) {
    clearTimeout(retries.get(id));
    retries.set(
      id,
      setTimeout(() => {
        retries.delete(id);
        void (async () => {
          const [row] = await deps.db.select().from(results).where(and(eq(results.id, id), eq(results.tenantSlug, deps.tenant)));
          // Acked, purged or expired meanwhile, or being pulled by another connection: no longer this one's to offer.
          if (!row || (row.status !== "held" && row.status !== "notified")) return release(id);
          await offer([row]);
        })().catch((e) => void (closed || deps.log(`gateway: retrying ${id} failed: ${e instanceof Error ? e.message : e}`)));
      }, ms),
    );
  }

  function release(id: string) {
    clearTimeout(retries.get(id));
    retries.delete(id);
    if (outstanding.delete(id)) void fill();
  }

  return {
    /** Starts the backlog: the first page now, the rest as the router works through it. */
    start() {
      started = true;
      return fill();
    },
    /**
     * A result just stored or replaced, or (`again`) re-notified from the console. One already offered is offered
     * again only as a new version or when asked again, whatever backoff it was waiting out.
     */
    async push(r: Result, again = false) {
      if (closed || !started) return; // the first scan will find it
      if (deps.calledAeTitles.length && !deps.calledAeTitles.includes(r.calledAe)) return; // not for this router
      const offeredAs = outstanding.get(r.id);
      if (offeredAs !== undefined) {
        if (offeredAs === version(r) && !again) return; // the scan offered this very version a moment ago
        clearTimeout(retries.get(r.id));
        retries.delete(r.id);
        return offer([r]);
      }
      const scanWillReachIt = !cursor || after(r, cursor);
      if (scanWillReachIt && (more || outstanding.size >= deps.window)) {
        more = true;
        leftToScan++;
        return fill();
      }
      return offer([r]);
    },
    /** Acked, refused (pull-failed) or ack-ignored: its place in the window goes to the next page. */
    release,
    /** Nacked: offered again after `ms`, keeping its place in the window meanwhile. */
    retryIn,
    outstanding: () => outstanding.size,
    close() {
      closed = true;
      for (const t of retries.values()) clearTimeout(t);
      retries.clear();
    },
  };
}
