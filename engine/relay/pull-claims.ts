// Several routers of a tenant share its results: each result is pulled by one router at a time. A router may pull
// a result that is held or notified, or one it was pulling itself before it reconnected; one another connected
// router is pulling is refused. When a router goes, what it was pulling goes back to notified for the others.
import { and, eq } from "drizzle-orm";
import type { EngineDb } from "../store/db";
import { LIVE_STATUSES, engineEvents, results } from "../store/schema";
import type { Result } from "./hold-queue";

export type Claim = { result: Result; blobId: string | null } | "taken" | null;

/** Claims a live result for this router's pull (its `result.pulled` event in the same transaction). */
export async function claimForPull(
  db: EngineDb,
  where: { tenantSlug: string; id: string },
  routerId: string,
  isConnected: (routerId: string) => boolean,
  now: Date,
  /** the router's called AE titles (empty: all): a result sent to another one is not its to pull */
  calledAeTitles: string[] = [],
): Promise<Claim> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(results).where(eq(results.id, where.id)).for("update");
    if (!current || current.tenantSlug !== where.tenantSlug || !(LIVE_STATUSES as readonly string[]).includes(current.status)) return null;
    if (calledAeTitles.length && !calledAeTitles.includes(current.calledAe)) return null;
    if (current.status === "pulled" && current.pulledBy && current.pulledBy !== routerId && isConnected(current.pulledBy)) return "taken";
    const [row] = await tx.update(results).set({ status: "pulled", pulledBy: routerId, statusChangedAt: now }).where(eq(results.id, current.id)).returning();
    await tx.insert(engineEvents).values({ tenantSlug: current.tenantSlug, type: "result.pulled", payload: { resultId: current.id, from: current.status, routerId } });
    return { result: row!, blobId: current.blobId };
  });
}

/** A router disconnected: the results it was pulling become notified again, each with an event saying why. */
export async function releasePulls(db: EngineDb, tenant: string, routerId: string, now: Date): Promise<Result[]> {
  return db.transaction(async (tx) => {
    const released = await tx
      .update(results)
      .set({ status: "notified", pulledBy: null, statusChangedAt: now })
      .where(and(eq(results.tenantSlug, tenant), eq(results.pulledBy, routerId), eq(results.status, "pulled")))
      .returning();
    if (released.length)
      await tx.insert(engineEvents).values(released.map((r) => ({ tenantSlug: tenant, type: "result.notified", payload: { resultId: r.id, from: "pulled", routerId, released: "the router pulling it disconnected" } })));
    return released;
  });
}
