import "server-only";
import { eq, sql } from "drizzle-orm";
import { memberships, tenantConfigs } from "@/db/schema";
import { z } from "zod";
import { systemContext, type Actor } from "../context";
import { ForbiddenError } from "../errors";
import { withTenant } from "../db";
import { engineClientFromEnv, tryEngine } from "../engine/client";
import { createTenant, listAllTenants } from "./service";

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

/** What an engineer types to create a tenant: the tenant admin it starts with is invited by e-mail. */
export const OpsTenantInput = z.object({
  slug: z.string().trim(),
  name: z.string().trim().min(1, "Give the tenant's display name.").max(120, "At most 120 characters."),
  ttlDays: z.coerce.number({ error: "The TTL is a number of days." }).int("A whole number of days.").min(1, "At least 1 day.").max(30, "At most 30 days."),
  calledAeTitles: z.string().default("").transform((s) => s.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean)),
  adminEmail: z.email("Give the first tenant admin's e-mail address.").transform((e) => e.trim().toLowerCase()),
});

/** An engineer creates a tenant (audited in the global chain and the tenant's own); the engine gets it by reconcile. */
export async function createTenantAsEngineer(engineer: { id: string; name: string; email: string; isEngineer: boolean }, input: unknown) {
  if (!engineer.isEngineer) throw new ForbiddenError("Only engineers create tenants.");
  const d = OpsTenantInput.parse(input);
  const actor: Actor = { userId: engineer.id, name: engineer.name, email: engineer.email, roles: ["engineer"] };
  return createTenant({ slug: d.slug, name: d.name, ttlDays: d.ttlDays, calledAeTitles: d.calledAeTitles, members: [{ email: d.adminEmail, role: "tenant_admin" }] }, actor);
}
