import "server-only";
import { eq, sql } from "drizzle-orm";
import { memberships, tenantConfigs } from "@/db/schema";
import { systemContext } from "../context";
import { withTenant } from "../db";
import { engineClientFromEnv, tryEngine } from "../engine/client";
import { listAllTenants } from "./service";

/**
 * The operations registry: per tenant only metadata a vendor needs to run the service (member count, whether the
 * engine has its config, how many routers are connected), never its data.
 */
export async function tenantsOverview() {
  const all = await listAllTenants();
  const engine = engineClientFromEnv();
  return Promise.all(
    all.map(async (t) => {
      const { members, config } = await withTenant(systemContext(t.id), async (tx) => {
        const [m] = await tx.select({ n: sql<number>`count(*)::int` }).from(memberships).where(eq(memberships.tenantId, t.id));
        const [c] = await tx.select({ version: tenantConfigs.version, applied: tenantConfigs.appliedVersion }).from(tenantConfigs).where(eq(tenantConfigs.tenantId, t.id));
        return { members: m?.n ?? 0, config: c };
      });
      const routers = await tryEngine(() => engine.listRouters(t.slug));
      return {
        ...t,
        members,
        configSync: !config ? "none" : config.applied === config.version ? `applied (v${config.version})` : `pending (v${config.version})`,
        routersConnected: routers.ok ? routers.value.routers.filter((r) => r.connected).length : null,
      };
    }),
  );
}
