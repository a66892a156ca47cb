import "server-only";
import { eq, sql } from "drizzle-orm";
import { engineEventCursor, tenants } from "@/db/schema";
import type { EngineEvent } from "@/engine/api/contract";
import { systemContext } from "../context";
import { withSystem, type Tx } from "../db";
import type { EngineClient } from "../engine/client";
import { recordDeliveries } from "../webhooks/service";
import { appendAudit } from "./append";

const CURSOR_ID = "engine";
const engineActor = systemContext("00000000-0000-0000-0000-000000000000", "engine").actor;

/** What an engine event is about: its result, router or tenant. */
function targetOf(e: EngineEvent) {
  const p = e.payload as { resultId?: unknown; routerId?: unknown };
  if (typeof p.resultId === "string") return `result:${p.resultId}`;
  if (typeof p.routerId === "string") return `router:${p.routerId}`;
  return e.tenantSlug ? `tenant:${e.tenantSlug}` : "engine";
}

async function appendEvent(tx: Tx, e: EngineEvent, tenantIds: Map<string, string>) {
  const tenantId = e.tenantSlug ? (tenantIds.get(e.tenantSlug) ?? null) : null;
  // The chain's RLS scope for this entry; the transaction stays a system one throughout.
  await tx.execute(sql`select set_config('app.tenant_id', ${tenantId ?? ""}, true)`);
  await appendAudit(
    tx,
    { tenantId, actor: engineActor, source: "engine" },
    {
      action: e.type,
      target: targetOf(e),
      after: { ...e.payload, engineSeq: e.seq, engineAt: e.at, ...(tenantId || !e.tenantSlug ? {} : { engineTenant: e.tenantSlug }) },
    },
  );
  // Someone should know a result is stuck: the tenant's "relay" webhooks, recorded with the audit entry (once, as
  // the event is ingested once), and sent by the worker from the deliveries table.
  if (e.type === "result.delivery_failing" && tenantId && e.tenantSlug) await recordDeliveries(tx, tenantId, "relay", deliveryFailingPayload(e));
  // And a router gone silent (announced once per silence by the engine).
  if (e.type === "router.stale" && tenantId && e.tenantSlug) await recordDeliveries(tx, tenantId, "relay", routerStalePayload(e));
}

function routerStalePayload(e: EngineEvent) {
  const p = e.payload as { routerId?: string; name?: string; lastHeartbeatAt?: string; disconnectedAt?: string | null; staleAfterSeconds?: number };
  return {
    event: "router.stale",
    tenant: e.tenantSlug,
    routerId: p.routerId,
    name: p.name,
    lastHeartbeatAt: p.lastHeartbeatAt,
    disconnectedAt: p.disconnectedAt ?? null,
    message: `Router ${p.name ?? p.routerId ?? "?"} has not been heard from since ${p.lastHeartbeatAt ?? "?"} (more than ${p.staleAfterSeconds ?? "?"} s): results wait in the hold queue until it is back.`,
  };
}

function deliveryFailingPayload(e: EngineEvent) {
  const p = e.payload as { resultId?: string; sopInstanceUid?: string; studyInstanceUid?: string | null; modality?: string | null; reason?: string; attempts?: number; since?: string; routerId?: string };
  return {
    event: "result.delivery_failing",
    tenant: e.tenantSlug,
    resultId: p.resultId,
    sopInstanceUid: p.sopInstanceUid,
    studyInstanceUid: p.studyInstanceUid ?? null,
    modality: p.modality ?? null,
    routerId: p.routerId,
    reason: p.reason,
    attempts: p.attempts,
    since: p.since ?? e.at,
    message: `A result (SOP instance ${p.sopInstanceUid ?? "?"}) could not be delivered to the PACS after ${p.attempts ?? "several"} attempts: ${p.reason ?? "no reason given"}. The router keeps retrying it.`,
  };
}

/**
 * One step of ingesting the engine's event feed into the audit chains: the events after the durable cursor are
 * appended, in order, in one transaction that also moves the cursor. A crash anywhere rolls the whole step back,
 * and a second worker waits on the cursor row and then sees it moved: every event lands exactly once.
 */
export async function ingestEngineEvents(engine: EngineClient, limit = 500): Promise<number> {
  const after = await withSystem(async (tx) => {
    await tx.insert(engineEventCursor).values({ id: CURSOR_ID, lastSeq: 0 }).onConflictDoNothing();
    const [c] = await tx.select().from(engineEventCursor).where(eq(engineEventCursor.id, CURSOR_ID));
    return c!.lastSeq;
  });
  const feed = await engine.events(after, limit);
  if (!feed.events.length) return 0;
  return withSystem(async (tx) => {
    const [cursor] = await tx.select().from(engineEventCursor).where(eq(engineEventCursor.id, CURSOR_ID)).for("update");
    if (cursor!.lastSeq !== after) return 0; // another worker ingested these meanwhile
    const tenantIds = new Map((await tx.select({ id: tenants.id, slug: tenants.slug }).from(tenants)).map((t) => [t.slug, t.id]));
    for (const e of feed.events) await appendEvent(tx, e, tenantIds);
    await tx.update(engineEventCursor).set({ lastSeq: feed.events[feed.events.length - 1]!.seq }).where(eq(engineEventCursor.id, CURSOR_ID));
    return feed.events.length;
  });
}

/** Ingests until the feed is drained (or `maxSteps` steps). */
export async function drainEngineEvents(engine: EngineClient, limit = 500, maxSteps = 100) {
  let total = 0;
  for (let i = 0; i < maxSteps; i++) {
    const n = await ingestEngineEvents(engine, limit);
    total += n;
    if (n < limit) break;
  }
  return total;
}
