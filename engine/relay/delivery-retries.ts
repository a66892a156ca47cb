// A result the router nacked (its PACS refused it, or was down) is offered again with backoff while the router
// stays connected; after repeated failures it is flagged "delivery failing", once, with the router's reason, and
// retried at the capped backoff until an ack clears the flag. Attempts live on the results row (migration 0025).
import { eq } from "drizzle-orm";
import type { EngineDb } from "../store/db";
import { engineEvents, results } from "../store/schema";
import type { Result } from "./hold-queue";

export type RetryPolicy = {
  /** delay before the first retry; doubles with each further nack */
  firstMs: number;
  maxMs: number;
  /** consecutive nacks after which the result is flagged */
  failingAfter: number;
};

export const backoffMs = (attempt: number, p: RetryPolicy) => Math.min(p.firstMs * 2 ** Math.max(0, attempt - 1), p.maxMs);

/**
 * pulled → notified after a nack, with the attempt counted and the next one scheduled; null when the result was
 * not being pulled (a repeated nack, or it was acked, replaced or purged meanwhile). `flagged` is true on the nack
 * that made it "delivery failing" (its event is written then, and never again until an ack clears the flag).
 */
export async function recordNack(
  db: EngineDb,
  where: { tenantSlug: string; id: string },
  nack: { routerId: string; reason: string },
  policy: RetryPolicy,
  now: Date,
): Promise<{ result: Result; delayMs: number; flagged: boolean } | null> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(results).where(eq(results.id, where.id)).for("update");
    if (!current || current.tenantSlug !== where.tenantSlug || current.status !== "pulled") return null;
    const attempts = current.deliveryAttempts + 1;
    const delayMs = backoffMs(attempts, policy);
    const nextAttemptAt = new Date(now.getTime() + delayMs);
    const flagged = attempts >= policy.failingAfter && !current.deliveryFailingSince;
    const [row] = await tx
      .update(results)
      .set({
        status: "notified",
        pulledBy: null,
        statusChangedAt: now,
        deliveryAttempts: attempts,
        nextAttemptAt,
        lastFailureReason: nack.reason,
        ...(flagged ? { deliveryFailingSince: now } : {}),
      })
      .where(eq(results.id, current.id))
      .returning();
    const base = { resultId: current.id, routerId: nack.routerId };
    await tx.insert(engineEvents).values({
      tenantSlug: current.tenantSlug,
      type: "result.notified",
      payload: { ...base, from: "pulled", forwardFailed: nack.reason, attempt: attempts, nextAttemptAt: nextAttemptAt.toISOString() },
    });
    if (flagged)
      await tx.insert(engineEvents).values({
        tenantSlug: current.tenantSlug,
        type: "result.delivery_failing",
        payload: {
          ...base,
          sopInstanceUid: current.sopInstanceUid,
          studyInstanceUid: current.studyInstanceUid,
          modality: current.modality,
          reason: nack.reason,
          attempts,
          since: now.toISOString(),
        },
      });
    return { result: row!, delayMs, flagged };
  });
}
