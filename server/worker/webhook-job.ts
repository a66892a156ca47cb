import "server-only";
import { and, eq, isNull, lt, sql } from "drizzle-orm";
import type { PgBoss } from "pg-boss";
import { tenants, webhookDeliveries, webhookEndpoints } from "@/db/schema";
import { systemContext } from "../context";
import { withSystem, withTenant } from "../db";
import { decryptSecret, signature } from "../webhooks/signing";
import { webhookUrlProblem } from "../webhooks/url-check";

export const DELIVER_QUEUE = "webhook-deliver";
/** Attempts per delivery: the first and five retries, 2 s, 4 s, 8 s … apart (pg-boss's exponential backoff). */
export const MAX_ATTEMPTS = 6;

type Job = { tenantId: string; deliveryId: string };

/** Deliveries not yet made (and not given up on) become queue jobs, one per delivery. */
export async function enqueueDeliveries(boss: PgBoss) {
  const ids = await withSystem((tx) => tx.select({ id: tenants.id }).from(tenants));
  for (const { id: tenantId } of ids) {
    const due = await withTenant(systemContext(tenantId), (tx) =>
      tx.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(and(isNull(webhookDeliveries.deliveredAt), lt(webhookDeliveries.attempts, MAX_ATTEMPTS))),
    );
    // The job's id is the delivery's: sending it again while the job exists is a no-op (a singleton key alone does
    // not dedupe on a standard queue, and retries would pile up behind the sweep).
    for (const d of due) await boss.send(DELIVER_QUEUE, { tenantId, deliveryId: d.id } satisfies Job, { id: d.id });
  }
}

/** One attempt: signed POST, the answer logged; anything but 2xx throws so pg-boss retries it later. */
export async function deliver(job: Job, fetchImpl: typeof fetch = fetch) {
  const ctx = systemContext(job.tenantId);
  const row = await withTenant(ctx, async (tx) => {
    const [r] = await tx
      .select({ d: webhookDeliveries, url: webhookEndpoints.url, secret: webhookEndpoints.secretEncrypted })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
      .where(eq(webhookDeliveries.id, job.deliveryId));
    return r;
  });
  if (!row || row.d.deliveredAt) return;
  const timestamp = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ id: row.d.id, event: row.d.event, createdAt: row.d.createdAt.toISOString(), data: row.d.payload });
  let status: number | null = null;
  // Checked again at send time: a name may resolve elsewhere now than when the receiver was added.
  let error: string | null = await webhookUrlProblem(row.url);
  if (!error) {
    try {
      const res = await fetchImpl(row.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "imaging-ops-console-webhooks",
          "x-webhook-id": row.d.id,
          "x-webhook-timestamp": String(timestamp),
          "x-webhook-signature": `sha256=${signature(decryptSecret(row.secret), timestamp, body)}`,
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      await res.body?.cancel();
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
  }
  const ok = status !== null && status >= 200 && status < 300;
  await withTenant(ctx, (tx) =>
    tx
      .update(webhookDeliveries)
      .set({
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        lastStatus: status,
        lastError: ok ? null : (error ?? `HTTP ${status}`),
        deliveredAt: ok ? new Date() : null,
        log: sql`${webhookDeliveries.log} || ${JSON.stringify([{ at: new Date().toISOString(), status, error }])}::jsonb`,
      })
      .where(eq(webhookDeliveries.id, row.d.id)),
  );
  if (!ok) throw new Error(`delivery ${row.d.id} to ${row.url}: ${error ?? `HTTP ${status}`}`);
}

export async function registerWebhookDelivery(boss: PgBoss, log: (m: string) => void) {
  await boss.createQueue(DELIVER_QUEUE, { retryLimit: MAX_ATTEMPTS - 1, retryDelay: 2, retryBackoff: true, retryDelayMax: 300, expireInSeconds: 60 });
  await boss.work<Job>(DELIVER_QUEUE, { pollingIntervalSeconds: 1 }, async ([job]) => {
    try {
      await deliver(job!.data);
    } catch (e) {
      log(e instanceof Error ? e.message : String(e));
      throw e;
    }
  });
}
