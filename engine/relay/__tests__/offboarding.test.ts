import { randomUUID } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { PYDICOM_TEST_FILES, dcmtk } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { enrolTestRouter } from "../../../test/routers";

const TOKEN = "offboarding-test-token-".padEnd(48, "o");

describe("offboarding a tenant in the engine", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let sql: postgres.Sql;
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const put = (slug: string, ae: string, version: number, suspended: { since: string; reason: string } | null = null) =>
    api(`/v1/tenants/${slug}`, { method: "PUT", body: JSON.stringify({ ttlDays: 7, calledAeTitles: [ae], allowedCallingAeTitles: [], version, suspended }) });
  const offboard = (slug: string) => api(`/v1/tenants/${slug}/offboard`, { method: "POST", body: JSON.stringify({ reason: "contract ended" }) });
  const store = (ae: string, file: string) => dcmtk("storescu", ["-aet", "VENDOR", "-aec", ae, "127.0.0.1", String(engine.dicomPort), path.join(PYDICOM_TEST_FILES, file)]);
  const results = async (slug: string) => (await api(`/v1/tenants/${slug}/results`)).body.results as Array<Record<string, any>>;

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    sql = postgres(dbs.engineUrl, { max: 1, onnotice: () => {} });
    await put("leaving", "LEAVING", 1);
    await put("staying", "STAYING", 1);
  });
  afterAll(async () => {
    await sql?.end();
    await engine?.close();
    await dbs?.drop();
  });

  it("purges a suspended tenant's results with receipts, revokes its routers, destroys its key, and never takes the slug back", async () => {
    // A small result (in a segment), a large one (a file of its own), one router; and the other tenant's result.
    for (const f of ["CT_small.dcm", "waveform_ecg.dcm"]) expect((await store("LEAVING", f)).code).toBe(0);
    expect((await store("STAYING", "CT_small.dcm")).code).toBe(0);
    const { router } = await enrolTestRouter(engine, TOKEN, "leaving", "site router");
    const staying = (await results("staying"))[0]!;
    const stayingBytes = await engine.readResultBytes("staying", staying.id);

    // Refused for a tenant this engine never had (the slug stays free), while the tenant is active, and while one of
    // its migrations is at work.
    expect(await offboard("nobody")).toMatchObject({ status: 404, body: { error: "not_found" } });
    expect((await put("nobody", "NOBODY", 1)).status).toBe(200);
    expect(await offboard("leaving")).toMatchObject({ status: 409, body: { error: "offboard_refused", message: expect.stringContaining("suspend it first") } });
    await put("leaving", "LEAVING", 2, { since: new Date().toISOString(), reason: "offboarding" });
    const migrationId = randomUUID();
    await sql`insert into migrations (id, tenant_slug, plan, status) values (${migrationId}, 'leaving', '{}'::jsonb, 'discovering')`;
    expect(await offboard("leaving")).toMatchObject({ status: 409, body: { message: expect.stringContaining("pause it first") } });
    await sql`update migrations set status = 'paused' where id = ${migrationId}`;

    const { status, body: receipt } = await offboard("leaving");
    expect(status).toBe(200);
    expect(receipt).toMatchObject({ slug: "leaving", reason: "contract ended", resultsPurged: 2, routersRevoked: 1, migrationsDeleted: 1, evidenceDeleted: 0, dataKeyDestroyed: true });

    // Each result purged, with the reason in its own timeline; no bytes left for it, and no key to read any.
    for (const r of await results("leaving")) {
      const detail = (await api(`/v1/tenants/leaving/results/${r.id}`)).body;
      expect(detail.status).toBe("purged");
      expect(detail.timeline.at(-1)).toMatchObject({ type: "result.purged", payload: { reason: "tenant offboarded: contract ended" } });
      await expect(engine.readResultBytes("leaving", r.id)).rejects.toThrow();
    }
    const leftFiles = await readdir(path.join(engine.blobDir, "leaving")).catch(() => []);
    expect(leftFiles.filter((f) => !f.endsWith(".seg") && !f.endsWith(".seg.open"))).toEqual([]);
    expect(await sql`select 1 from tenant_keys where slug = 'leaving'`).toHaveLength(0);
    expect(await sql`select 1 from migrations where tenant_slug = 'leaving'`).toHaveLength(0);
    expect((await api("/v1/tenants/leaving/routers")).body.routers.map((r: { id: string; revokedAt: string | null }) => [r.id, Boolean(r.revokedAt)])).toEqual([[router.id, true]]);
    expect((await api("/v1/tenants/leaving")).status).toBe(404);
    const [event] = await sql<{ payload: Record<string, unknown> }[]>`select payload from engine_events where type = 'tenant.offboarded' and tenant_slug = 'leaving'`;
    expect(event!.payload).toEqual(receipt);

    // Its AE title is refused, its slug is not configured again, and asking again gives the same receipt.
    expect((await store("LEAVING", "MR_small.dcm")).code).not.toBe(0);
    expect(await put("leaving", "LEAVING", 3)).toMatchObject({ status: 409, body: { error: "offboarded" } });
    expect((await offboard("leaving")).body).toEqual(receipt);

    // The other tenant is untouched.
    expect((await results("staying")).map((r) => r.status)).toEqual(["held"]);
    expect((await engine.readResultBytes("staying", staying.id)).equals(stayingBytes)).toBe(true);
    expect((await store("STAYING", "MR_small.dcm")).code).toBe(0);
  });
});
