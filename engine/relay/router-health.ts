// Router health in the engine database, so it survives restarts and is the same whichever engine a router is
// connected to: connected since, last heartbeat, last pull and its latency. A router silent past the stale
// threshold is announced once (`router.stale`, which the console turns into a webhook) and `router.recovered`
// when it is heard from again.
import { and, eq, isNotNull, isNull, lt } from "drizzle-orm";
import type { EngineDb } from "../store/db";
import { engineEvents, routerCerts } from "../store/schema";

export function createRouterHealth(deps: { db: EngineDb; now: () => Date; log: (m: string) => void }) {
  const { db } = deps;
  // Health writes are bookkeeping beside delivery: a failed one is logged, never fails the router's request.
  const quietly = (what: string, p: Promise<unknown>) => void p.catch((e) => deps.log(`router health (${what}): ${e instanceof Error ? e.message : e}`));

  /** Heard from: a stale router is announced as recovered, in the same transaction as the change. */
  const heard = (routerId: string, set: Partial<typeof routerCerts.$inferInsert>) =>
    db.transaction(async (tx) => {
      const [before] = await tx.select({ staleSince: routerCerts.staleSince, tenantSlug: routerCerts.tenantSlug, name: routerCerts.name }).from(routerCerts).where(eq(routerCerts.id, routerId)).for("update");
      if (!before) return;
      await tx.update(routerCerts).set({ ...set, lastHeartbeatAt: deps.now(), staleSince: null }).where(eq(routerCerts.id, routerId));
      if (before.staleSince)
        await tx.insert(engineEvents).values({ tenantSlug: before.tenantSlug, type: "router.recovered", payload: { routerId, name: before.name, staleSince: before.staleSince.toISOString() } });
    });

  return {
    connected: (routerId: string, address: string) => quietly("connect", heard(routerId, { connectedSince: deps.now(), disconnectedAt: null, lastAddress: address })),
    heartbeat: (routerId: string) => quietly("heartbeat", heard(routerId, {})),
    pulled: (routerId: string, latencyMs: number) =>
      quietly("pull", db.update(routerCerts).set({ lastPullAt: deps.now(), lastPullLatencyMs: Math.round(latencyMs) }).where(eq(routerCerts.id, routerId))),
    disconnected: (routerId: string) => quietly("disconnect", db.update(routerCerts).set({ disconnectedAt: deps.now() }).where(eq(routerCerts.id, routerId))),

    /** Marks active routers not heard from for `staleAfterMs` as stale, each announced once; returns how many. */
    async sweep(staleAfterMs: number) {
      const cutoff = new Date(deps.now().getTime() - staleAfterMs);
      return db.transaction(async (tx) => {
        const stale = await tx
          .update(routerCerts)
          .set({ staleSince: deps.now() })
          .where(and(isNull(routerCerts.revokedAt), isNull(routerCerts.staleSince), isNotNull(routerCerts.lastHeartbeatAt), lt(routerCerts.lastHeartbeatAt, cutoff)))
          .returning();
        if (stale.length)
          await tx.insert(engineEvents).values(
            stale.map((r) => ({
              tenantSlug: r.tenantSlug,
              type: "router.stale",
              payload: { routerId: r.id, name: r.name, lastHeartbeatAt: r.lastHeartbeatAt!.toISOString(), disconnectedAt: r.disconnectedAt?.toISOString() ?? null, staleAfterSeconds: staleAfterMs / 1000 },
            })),
          );
        return stale.length;
      });
    },
  };
}
export type RouterHealth = ReturnType<typeof createRouterHealth>;
