// The console's control verbs against a real engine and database: each validates, calls the engine and writes
// its audit entry (with what was before and after); a refusal by the engine writes nothing; another tenant's
// context cannot reach the migration.
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEntries, users } from "@/db/schema";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { useConsoleDatabase } from "../../../test/console-db";
import { freePort } from "../../../scripts/lib/ports";
import type { TenantContext } from "../../context";
import { closeDb, db, withTenant } from "../../db";
import { EngineError } from "../../engine/client";
import { createTenant } from "../../tenancy/service";
import { pauseMigration, updateMigrationSettings } from "../service";

const TOKEN = "c".repeat(40);

describe("migration control from the console", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let archive: Awaited<ReturnType<typeof startOrthanc>>;
  let north: TenantContext;
  let south: TenantContext;
  let id: string;

  const ctxOf = (t: { id: string; slug: string; name: string }, userId: string): TenantContext => ({
    tenantId: t.id,
    tenantSlug: t.slug,
    tenantName: t.name,
    roles: ["engineer_read_write"],
    actor: { userId, name: "Evan Engineer", email: "evan@vendor.test", roles: ["engineer"], grantId: randomUUID() },
    requestId: "req",
  });
  const audits = (ctx: TenantContext) => withTenant(ctx, (tx) => tx.select().from(auditEntries).where(eq(auditEntries.tenantId, ctx.tenantId)));

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    const port = await freePort();
    process.env.ENGINE_ADMIN_URL = `http://127.0.0.1:${port}`;
    process.env.ENGINE_ADMIN_TOKEN = TOKEN;
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, adminPort: port });
    archive = await startOrthanc({ aeTitle: "CONTROL" });
    const [u] = await db().insert(users).values({ issuer: "https://idp.test", subject: "evan", email: "evan@vendor.test", name: "Evan Engineer" }).returning();
    north = ctxOf(await createTenant({ slug: "north", name: "North" }), u!.id);
    south = ctxOf(await createTenant({ slug: "south", name: "South" }), u!.id);
    const peer = { kind: "dicom", aeTitle: "CONTROL", host: "127.0.0.1", port: archive.port };
    const res = await fetch(`${engine.url}/v1/tenants/north/migrations`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "control", sources: [{ ...peer, id: "legacy" }], target: peer, filters: { studyDateFrom: "2020-01-01", studyDateTo: "2020-12-31" } }),
    });
    id = ((await res.json()) as { id: string }).id;
  }, 120_000);
  afterAll(async () => {
    await archive?.stop();
    await engine?.close();
    await closeDb();
    await dbs?.drop();
  });

  it("a settings change reaches the engine and is audited with before and after", async () => {
    const windows = JSON.stringify({ timeZone: "Europe/Berlin", intervals: [{ days: ["sat", "sun"], start: "00:00", end: "00:00" }] });
    const after = await updateMigrationSettings(north, id, { windows, overallCap: "12.5", perSourceCap: "", priority: "70", concurrency: "3" });
    expect(after.plan).toMatchObject({ priority: 70, concurrency: 3, bandwidth: { overallBytesPerSecond: 12_500_000 }, windows: JSON.parse(windows) });
    const entry = (await audits(north)).find((a) => a.action === "migrations.settings")!;
    expect(entry.target).toBe(`migration:${id}`);
    expect(entry.before).toMatchObject({ priority: 50, concurrency: 2, windows: null });
    expect(entry.after).toMatchObject({ priority: 70, concurrency: 3, bandwidth: { overallBytesPerSecond: 12_500_000 } });
    expect(entry.actor).toMatchObject({ name: "Evan Engineer", grantId: north.actor.grantId });
  });

  it("a refusal by the engine (pausing what is not running) writes no audit entry", async () => {
    const before = (await audits(north)).length;
    await expect(pauseMigration(north, id)).rejects.toBeInstanceOf(EngineError);
    expect((await audits(north)).length).toBe(before);
  });

  it("another tenant's context cannot reach the migration", async () => {
    await expect(updateMigrationSettings(south, id, { windows: "", overallCap: "", perSourceCap: "", priority: "10", concurrency: "1" })).rejects.toThrow(/No such migration/);
    await expect(pauseMigration(south, id)).rejects.toMatchObject({ status: 404 });
    expect((await audits(south)).filter((a) => a.action.startsWith("migrations."))).toEqual([]);
  });
});
