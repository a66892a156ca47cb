// Offboarding against the real console database and a real engine: two steps on a suspended tenant, the second
// after the wait with a fresh sign-in and `delete <slug>` typed; the engine purges with receipts, the console
// deletes the tenant's people and configuration, and the audit chain stays, exportable and verifiable. Another
// tenant is untouched, and the slug is never reused.
import path from "node:path";
import { and, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEntries, memberships, scimTokens, tenantConfigs, tenants, users } from "@/db/schema";
import { PYDICOM_TEST_FILES, dcmtk } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { useConsoleDatabase } from "../../../test/console-db";
import { drainEngineEvents } from "../../audit/engine-events";
import { exportResponse, verifyChain } from "../../audit/export";
import { systemContext } from "../../context";
import { closeDb, db, withSystem, withTenant } from "../../db";
import { createEngineClient } from "../../engine/client";
import { InputError, NotFoundError, StepUpRequiredError } from "../../errors";
import { reconcileTenantConfig } from "../../tenant-config/reconcile";
import { cancelOffboarding, completeOffboarding, offboardedTenantChain, requestOffboarding } from "../offboarding";
import { createTenantAsEngineer, setTenantSuspension } from "../operations";

const TOKEN = "console-offboarding-token-".padEnd(48, "c");

describe("offboarding a tenant", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let client: ReturnType<typeof createEngineClient>;
  const engineer = { id: "", name: "Evan Engineer", email: "evan@vendor.test", isEngineer: true, authTime: 0 };
  const fresh = () => ({ ...engineer, authTime: Math.floor(Date.now() / 1000) - 5 });
  const stale = () => ({ ...engineer, authTime: Math.floor(Date.now() / 1000) - 3600 });
  let north: { id: string; slug: string };
  let south: { id: string; slug: string };
  const store = (ae: string) => dcmtk("storescu", ["-aet", "VENDOR", "-aec", ae, "127.0.0.1", String(engine.dicomPort), path.join(PYDICOM_TEST_FILES, "CT_small.dcm")]);
  const actions = async (tenantId: string) =>
    (await withTenant(systemContext(tenantId), (tx) => tx.select().from(auditEntries).where(and(eq(auditEntries.chain, tenantId), like(auditEntries.action, "tenant.%"))).orderBy(auditEntries.seq))).map((e) => e.action);

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    client = createEngineClient({ url: engine.url, token: TOKEN });
    Object.assign(process.env, {
      ENGINE_ADMIN_URL: engine.url,
      ENGINE_ADMIN_TOKEN: TOKEN,
      AUTH_SECRET: "z".repeat(40),
      AUTH_URL: "http://localhost:3000",
      AUTH_OIDC_ISSUER: "http://localhost:4000",
      AUTH_OIDC_CLIENT_ID: "console",
      AUTH_OIDC_CLIENT_SECRET: "secret",
      AUTH_STEP_UP_MAX_AGE_SECONDS: "300",
      OFFBOARDING_WAIT_HOURS: "24",
    });
    const [e] = await db().insert(users).values({ issuer: "https://idp.test", subject: "evan", email: engineer.email, name: engineer.name }).returning();
    engineer.id = e!.id;
    north = await createTenantAsEngineer(engineer, { slug: "north", name: "North", ttlDays: "7", calledAeTitles: "NORTH", adminEmail: "ada@north.test" });
    south = await createTenantAsEngineer(engineer, { slug: "south", name: "South", ttlDays: "7", calledAeTitles: "SOUTH", adminEmail: "sam@south.test" });
    for (const t of [north, south]) await reconcileTenantConfig(client, t.id);
    await withTenant(systemContext(north.id), (tx) => tx.insert(scimTokens).values({ tenantId: north.id, name: "Entra ID", tokenHash: "0".repeat(64), defaultRole: "clinical_reviewer", createdBy: "test" }));
    expect((await store("NORTH")).code).toBe(0);
    expect((await store("SOUTH")).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await closeDb();
    await dbs?.drop();
  });

  it("is requested only on a suspended tenant with its slug typed, and can be cancelled", async () => {
    await expect(requestOffboarding(engineer, "north", { confirmSlug: "north", reason: "Contract ended" })).rejects.toThrow(/Suspend North first/);
    await setTenantSuspension(engineer, "north", true, { reason: "Contract ended" });
    await expect(requestOffboarding(engineer, "north", { confirmSlug: "nort", reason: "Contract ended" })).rejects.toMatchObject({ fields: { confirmSlug: ['Type "north".'] } });
    await expect(requestOffboarding(engineer, "nowhere", { confirmSlug: "nowhere", reason: "Contract ended" })).rejects.toThrow(NotFoundError);

    const r = await requestOffboarding(engineer, "north", { confirmSlug: "north", reason: "Contract ended, ticket OPS-7" });
    expect(r.dueAt.getTime() - r.offboardingRequestedAt!.getTime()).toBe(24 * 3_600_000);
    await expect(setTenantSuspension(engineer, "north", false, { reason: "Renewed" })).rejects.toThrow(/cancel that request/);
    await cancelOffboarding(engineer, "north");
    expect(await actions(north.id)).toEqual(["tenant.create", "tenant.suspend", "tenant.offboard_request", "tenant.offboard_cancel"]);
    await requestOffboarding(engineer, "north", { confirmSlug: "north", reason: "Contract ended, ticket OPS-7" });
  });

  it("is confirmed only after the wait, with a fresh sign-in and `delete <slug>` typed", async () => {
    await expect(completeOffboarding(fresh(), "north", { confirm: "delete north" })).rejects.toThrow(/waiting period ends/);
    process.env.OFFBOARDING_WAIT_HOURS = "0";
    await expect(completeOffboarding(stale(), "north", { confirm: "delete north" })).rejects.toThrow(StepUpRequiredError);
    await expect(completeOffboarding(fresh(), "north", { confirm: "north" })).rejects.toMatchObject({ fields: { confirm: ['Type "delete north".'] } });
    await expect(completeOffboarding(fresh(), "south", { confirm: "delete south" })).rejects.toThrow(/Request offboarding South first/);
    // None of the refusals reached the engine.
    expect((await client.listResults("north", {})).results.map((r) => r.status)).toEqual(["held"]);
  });

  it("purges the engine's data with receipts, deletes the tenant's people and config, and keeps its audit chain", async () => {
    const { receipt, removed } = await completeOffboarding(fresh(), "north", { confirm: "delete north" });
    expect(receipt).toMatchObject({ slug: "north", resultsPurged: 1, dataKeyDestroyed: true, reason: "Contract ended, ticket OPS-7" });
    expect(removed).toMatchObject({ members: 1, aeTitles: 1, scimTokens: 1 });
    const [row] = await withSystem((tx) => tx.select().from(tenants).where(eq(tenants.slug, "north")));
    expect(row).toMatchObject({ offboardedBy: "Evan Engineer", offboardReceipt: expect.objectContaining({ resultsPurged: 1 }) });
    await withTenant(systemContext(north.id), async (tx) => {
      expect(await tx.select().from(memberships)).toEqual([]);
      expect(await tx.select().from(tenantConfigs)).toEqual([]);
      expect(await tx.select().from(scimTokens)).toEqual([]);
    });
    // The engine's result went to purged with the reason, and that event reaches the tenant's chain.
    const [purged] = (await client.listResults("north", {})).results;
    expect(purged!.status).toBe("purged");
    await drainEngineEvents(client);
    expect(await actions(north.id)).toEqual(expect.arrayContaining(["tenant.offboard", "tenant.offboarded"]));
    await expect(completeOffboarding(fresh(), "north", { confirm: "delete north" })).rejects.toThrow(/was offboarded/);
    await expect(setTenantSuspension(engineer, "north", false, { reason: "Back" })).rejects.toThrow(/was offboarded/);
    // The slug is not reused.
    await expect(createTenantAsEngineer(engineer, { slug: "north", name: "North again", ttlDays: "7", calledAeTitles: "NORTH2", adminEmail: "x@north.test" })).rejects.toThrow(InputError);

    // South is untouched.
    expect((await client.listResults("south", {})).results.map((r) => r.status)).toEqual(["held"]);
    expect((await store("SOUTH")).code).toBe(0);
    await withTenant(systemContext(south.id), async (tx) => expect(await tx.select().from(memberships)).toHaveLength(1));
  });

  it("exports the kept chain of an offboarded tenant only, and the export verifies", async () => {
    await expect(offboardedTenantChain(engineer, "south")).rejects.toThrow(NotFoundError);
    const scope = await offboardedTenantChain(engineer, "north");
    const text = await exportResponse(scope, new URL("http://x/?format=jsonl")).text();
    expect(text).toContain('"tenant.offboard"');
    expect(await verifyChain(scope)).toMatchObject({ ok: true, complete: true });
    // The export itself is in the global chain.
    const [exported] = await withSystem((tx) => tx.select().from(auditEntries).where(eq(auditEntries.action, "ops.tenant.audit_export")));
    expect(exported).toMatchObject({ target: "tenant:north" });
  });
});
