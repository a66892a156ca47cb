// Suspending a tenant against the real console database: engineers only, with a required reason, in one
// transaction that records it in the global chain and the tenant's own and bumps the config version so the worker
// pushes `suspended` to the engine; another tenant is unaffected; reactivation undoes it, audited the same way.
import { and, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEntries, tenantConfigs, tenants, users } from "@/db/schema";
import type { TenantConfig } from "@/engine/api/contract";
import { useConsoleDatabase } from "../../../test/console-db";
import { systemContext } from "../../context";
import { closeDb, db, withSystem, withTenant, type Tx } from "../../db";
import type { EngineClient } from "../../engine/client";
import { ForbiddenError, InputError, NotFoundError } from "../../errors";
import { reconcileTenantConfig } from "../../tenant-config/reconcile";
import { createTenantAsEngineer, setTenantSuspension } from "../operations";
import { getTenantSuspension } from "../service";

describe("suspending and reactivating a tenant", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  const engineer = { id: "", name: "Evan Engineer", email: "evan@vendor.test", isEngineer: true };
  let north: { id: string; slug: string };
  let south: { id: string; slug: string };
  const pushed: Array<{ slug: string; config: TenantConfig }> = [];
  const engine = {
    putTenantConfig: async (slug: string, config: TenantConfig) => (pushed.push({ slug, config }), { ...config, slug, appliedAt: new Date().toISOString() }),
  } as unknown as EngineClient;
  /** Suspension entries in the global chain (null) or a tenant's own, read as that chain's reader would. */
  const entries = async (chain: string, tenantId: string | null) => {
    const read = (tx: Tx) => tx.select().from(auditEntries).where(and(eq(auditEntries.chain, chain), like(auditEntries.action, "%tenant.%"))).orderBy(auditEntries.seq);
    const rows = await (tenantId ? withTenant(systemContext(tenantId), read) : withSystem(read));
    return rows.filter((r) => /suspend|reactivate/.test(r.action));
  };
  const configOf = (id: string) => withTenant(systemContext(id), async (tx) => (await tx.select().from(tenantConfigs).where(eq(tenantConfigs.tenantId, id)))[0]!);

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    const [e] = await db().insert(users).values({ issuer: "https://idp.test", subject: "evan", email: engineer.email, name: engineer.name }).returning();
    engineer.id = e!.id;
    north = await createTenantAsEngineer(engineer, { slug: "north", name: "North", ttlDays: "7", calledAeTitles: "NORTH", adminEmail: "ada@north.test" });
    south = await createTenantAsEngineer(engineer, { slug: "south", name: "South", ttlDays: "7", calledAeTitles: "SOUTH", adminEmail: "sam@south.test" });
    await reconcileTenantConfig(engine, north.id);
    await reconcileTenantConfig(engine, south.id);
  });
  afterAll(async () => {
    await closeDb();
    await dbs?.drop();
  });

  it("only an engineer suspends, with a reason; audited in both chains; the engine is told; others are unaffected", async () => {
    await expect(setTenantSuspension({ ...engineer, isEngineer: false }, "north", true, { reason: "Contract ended" })).rejects.toThrow(ForbiddenError);
    await expect(setTenantSuspension(engineer, "north", true, { reason: " " })).rejects.toMatchObject({ fields: { reason: expect.any(Array) } });
    await expect(setTenantSuspension(engineer, "nowhere", true, { reason: "Contract ended" })).rejects.toThrow(NotFoundError);
    await expect(setTenantSuspension(engineer, "north", false, { reason: "Not suspended yet" })).rejects.toThrow(InputError);
    // None of the refusals left a trace.
    expect(await entries("global", null)).toEqual([]);
    expect((await configOf(north.id)).version).toBe(1);

    const s = await setTenantSuspension(engineer, "north", true, { reason: "Contract ended, ticket OPS-42" });
    expect(s).toMatchObject({ slug: "north", suspensionReason: "Contract ended, ticket OPS-42", suspendedBy: "Evan Engineer", configVersion: 2 });
    await expect(setTenantSuspension(engineer, "north", true, { reason: "Again" })).rejects.toThrow(/already suspended/);

    const [global] = await entries("global", null);
    expect(global).toMatchObject({ action: "ops.tenant.suspend", target: "tenant:north", reason: "Contract ended, ticket OPS-42", actor: expect.objectContaining({ name: "Evan Engineer" }) });
    const [own] = await entries(north.id, north.id);
    expect(own).toMatchObject({ action: "tenant.suspend", reason: "Contract ended, ticket OPS-42", after: expect.objectContaining({ configVersion: 2 }) });

    // The worker's next reconcile pushes `suspended` with the new version.
    expect(await reconcileTenantConfig(engine, north.id)).toEqual({ status: "applied", version: 2 });
    expect(pushed.at(-1)).toMatchObject({ slug: "north", config: { version: 2, calledAeTitles: ["NORTH"], suspended: { since: s.suspendedAt!.toISOString(), reason: "Contract ended, ticket OPS-42" } } });
    expect((await getTenantSuspension(systemContext(north.id)))!.reason).toBe("Contract ended, ticket OPS-42");

    // South: not suspended, its config untouched, nothing in its chain.
    expect(await getTenantSuspension(systemContext(south.id))).toBeNull();
    expect(await configOf(south.id)).toMatchObject({ version: 1, appliedVersion: 1 });
    expect(await entries(south.id, south.id)).toEqual([]);
    expect(await reconcileTenantConfig(engine, south.id)).toEqual({ status: "up-to-date" });
  });

  it("reactivation clears it, audited with its reason, and the engine is told", async () => {
    await expect(setTenantSuspension({ ...engineer, isEngineer: false }, "north", false, { reason: "Renewed" })).rejects.toThrow(ForbiddenError);
    const r = await setTenantSuspension(engineer, "north", false, { reason: "Contract renewed" });
    expect(r).toMatchObject({ suspendedAt: null, suspensionReason: null, configVersion: 3 });
    expect((await entries("global", null)).map((e) => [e.action, e.reason])).toEqual([
      ["ops.tenant.suspend", "Contract ended, ticket OPS-42"],
      ["ops.tenant.reactivate", "Contract renewed"],
    ]);
    expect((await entries(north.id, north.id)).map((e) => e.action)).toEqual(["tenant.suspend", "tenant.reactivate"]);
    await reconcileTenantConfig(engine, north.id);
    expect(pushed.at(-1)!.config).toMatchObject({ version: 3, suspended: null });
    expect(await getTenantSuspension(systemContext(north.id))).toBeNull();
    const [row] = await withSystem((tx) => tx.select().from(tenants).where(eq(tenants.id, north.id)));
    expect(row).toMatchObject({ suspendedAt: null, suspendedBy: null });
  });
});
