import { and, count, desc, eq, inArray, isNull } from "drizzle-orm";
import type { RouterInfo } from "../api/contract";
import type { EngineDb } from "../store/db";
import { LIVE_STATUSES, engineEvents, results, routerCerts } from "../store/schema";
import type { RouterSession } from "./gateway";

type Row = typeof routerCerts.$inferSelect;

function toInfo(r: Row, session: RouterSession | undefined): RouterInfo {
  return {
    id: r.id,
    name: r.name,
    subject: r.subject,
    serial: r.serial,
    notAfter: r.notAfter.toISOString(),
    enrolledAt: r.createdAt.toISOString(),
    revokedAt: r.revokedAt?.toISOString() ?? null,
    // Connected: to this engine now. The rest is what the database kept, whichever engine heard it.
    connected: Boolean(session),
    address: session?.address ?? r.lastAddress ?? null,
    connectedSince: (session?.connectedSince ?? r.connectedSince)?.toISOString() ?? null,
    disconnectedAt: session ? null : (r.disconnectedAt?.toISOString() ?? null),
    lastHeartbeat: r.lastHeartbeatAt?.toISOString() ?? null,
    calledAeTitles: r.calledAeTitles,
    lastPullAt: r.lastPullAt?.toISOString() ?? null,
    lastPullLatencyMs: r.lastPullLatencyMs ?? session?.lastPullLatencyMs ?? null,
    staleSince: r.staleSince?.toISOString() ?? null,
  };
}

export async function listRouters(db: EngineDb, slug: string, sessions: RouterSession[]) {
  const rows = await db.select().from(routerCerts).where(eq(routerCerts.tenantSlug, slug)).orderBy(desc(routerCerts.createdAt));
  const [pending] = await db
    .select({ n: count() })
    .from(results)
    .where(and(eq(results.tenantSlug, slug), inArray(results.status, [...LIVE_STATUSES])));
  return { routers: rows.map((r) => toInfo(r, sessions.find((s) => s.routerId === r.id))), pendingResults: pending?.n ?? 0 };
}

export async function revokeRouter(db: EngineDb, slug: string, id: string) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(routerCerts)
      .set({ revokedAt: new Date() })
      .where(and(eq(routerCerts.id, id), eq(routerCerts.tenantSlug, slug), isNull(routerCerts.revokedAt)))
      .returning();
    if (row) await tx.insert(engineEvents).values({ tenantSlug: slug, type: "router.revoked", payload: { routerId: id, name: row.name } });
    return row ? toInfo(row, undefined) : null;
  });
}
