import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import postgres from "postgres";
import { aeTitles, memberships, tenantConfigs, tenants } from "@/db/schema";
import { useConsoleDatabase } from "../../../test/console-db";
import { dbError } from "../../../test/errors";
import { systemContext } from "../../context";
import { assertRlsApplies, closeDb, db, withTenant } from "../../db";
import { createTenant } from "../service";

describe("tenant isolation in the database (row-level security)", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let a: { id: string }, b: { id: string };

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    a = await createTenant({ slug: "alpha", name: "Alpha", calledAeTitles: ["ALPHA"], members: [{ email: "x@alpha.test", role: "tenant_admin" }] });
    b = await createTenant({ slug: "bravo", name: "Bravo", ttlDays: 12, calledAeTitles: ["BRAVO"], members: [{ email: "y@bravo.test", role: "tenant_admin" }] });
  });
  afterAll(async () => {
    await closeDb();
    await dbs?.drop();
  });

  it("connects as a role that RLS applies to", async () => {
    await expect(assertRlsApplies()).resolves.toBeUndefined();
  });

  it("an unfiltered query inside one tenant's transaction sees only that tenant's rows", async () => {
    const rows = await withTenant(systemContext(a.id), async (tx) => ({
      configs: await tx.select().from(tenantConfigs),
      titles: await tx.select().from(aeTitles),
      members: await tx.select().from(memberships),
      tenants: await tx.select().from(tenants),
    }));
    expect(rows.configs.map((r) => r.tenantId)).toEqual([a.id]);
    expect(rows.titles.map((r) => r.aeTitle)).toEqual(["ALPHA"]);
    expect(rows.members.map((r) => r.email)).toEqual(["x@alpha.test"]);
    expect(rows.tenants.map((r) => r.slug)).toEqual(["alpha"]);
  });

  it("a query with no tenant set sees no tenant rows", async () => {
    expect(await db().select().from(tenantConfigs)).toEqual([]);
    expect(await db().select().from(aeTitles)).toEqual([]);
    expect(await db().select().from(memberships)).toEqual([]);
    expect(await db().select().from(tenants)).toEqual([]);
  });

  it("cannot change another tenant's rows even when the code forgets the filter", async () => {
    const updated = await withTenant(systemContext(a.id), (tx) =>
      tx.update(tenantConfigs).set({ ttlDays: 1 }).where(eq(tenantConfigs.tenantId, b.id)).returning(),
    );
    expect(updated).toEqual([]);
    const deleted = await withTenant(systemContext(a.id), (tx) => tx.delete(aeTitles).where(eq(aeTitles.tenantId, b.id)).returning());
    expect(deleted).toEqual([]);
    const [bConfig] = await withTenant(systemContext(b.id), (tx) => tx.select().from(tenantConfigs));
    expect(bConfig?.ttlDays).toBe(12);
  });

  it("cannot insert rows into another tenant", async () => {
    expect(
      await dbError(withTenant(systemContext(a.id), (tx) => tx.insert(aeTitles).values({ tenantId: b.id, kind: "calling", aeTitle: "SNEAKY" }))),
    ).toMatch(/row-level security/);
  });

  it("gives a called AE title to at most one tenant", async () => {
    expect(
      await dbError(withTenant(systemContext(a.id), (tx) => tx.insert(aeTitles).values({ tenantId: a.id, kind: "called", aeTitle: "BRAVO" }))),
    ).toMatch(/ae_titles_called_unique/);
  });

  it("refuses a TTL outside 1..30 at the database too", async () => {
    expect(
      await dbError(withTenant(systemContext(a.id), (tx) => tx.update(tenantConfigs).set({ ttlDays: 31 }).where(eq(tenantConfigs.tenantId, a.id)))),
    ).toMatch(/tenant_configs_ttl_days_range/);
  });

  it("refuses to run as a superuser (RLS would not apply)", async () => {
    const admin = postgres(dbs.adminUrl, { max: 1 });
    const [r] = await admin`select rolsuper from pg_roles where rolname = current_user`;
    await admin.end();
    expect(r?.rolsuper).toBe(true);
    await closeDb();
    process.env.DATABASE_URL = dbs.adminUrl;
    await expect(assertRlsApplies()).rejects.toThrow(/row-level security would not apply/);
    await closeDb();
    process.env.DATABASE_URL = dbs.consoleAppUrl;
    expect((await db().execute<{ u: string }>(sql`select current_user as u`))[0]?.u).toMatch(/_console_app$/);
  });
});
