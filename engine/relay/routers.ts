import { randomUUID } from "node:crypto";
import { and, count, desc, eq, inArray, isNull } from "drizzle-orm";
import type { RouterInfo } from "../api/contract";
import type { EngineDb } from "../store/db";
import { LIVE_STATUSES, engineEvents, results, routerCerts } from "../store/schema";
import type { CertificateAuthority } from "./ca";
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
    connected: Boolean(session),
    address: session?.address ?? null,
    connectedSince: session?.connectedSince.toISOString() ?? null,
    lastHeartbeat: session?.lastHeartbeat.toISOString() ?? null,
    lastPullLatencyMs: session?.lastPullLatencyMs ?? null,
  };
}

/** Issues a router certificate for the tenant; the private key is returned to the caller and not stored. */
export async function enrollRouter(db: EngineDb, ca: CertificateAuthority, slug: string, name: string) {
  const issued = await ca.issueRouter(slug);
  const id = randomUUID();
  const [row] = await db.transaction(async (tx) => {
    const inserted = await tx
      .insert(routerCerts)
      .values({ id, tenantSlug: slug, name, serial: issued.serial, subject: issued.subject, fingerprint256: issued.fingerprint256, notAfter: issued.notAfter })
      .returning();
    await tx.insert(engineEvents).values({ tenantSlug: slug, type: "router.enrolled", payload: { routerId: id, name, serial: issued.serial } });
    return inserted;
  });
  return { router: toInfo(row!, undefined), certificatePem: issued.certPem, privateKeyPem: issued.keyPem, caCertificatePem: ca.certPem };
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
