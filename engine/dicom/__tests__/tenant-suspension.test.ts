// Suspending a tenant against the real engine, with DCMTK as the vendor and a real router connection: while
// suspended its called AE title is refused at association (rejected-permanent, called AE title not recognized), its
// router is told why and disconnected, and refused again on reconnecting; nothing held is deleted and its expiry
// stays; another tenant is unaffected; after reactivation both work again.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createTestDatabases } from "../../../test/databases";
import { PYDICOM_TEST_FILES, dcmtk } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { enrolTestRouter } from "../../../test/routers";
import { until } from "../../../test/until";

const TOKEN = "suspension-test-token-".padEnd(48, "s");
const CT = path.join(PYDICOM_TEST_FILES, "CT_small.dcm");
const MR = path.join(PYDICOM_TEST_FILES, "MR_small.dcm");

describe("a suspended tenant", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const put = (slug: string, body: unknown) => api(`/v1/tenants/${slug}`, { method: "PUT", body: JSON.stringify(body) });
  const store = (calledAe: string, file: string) => dcmtk("storescu", ["-aet", "VENDOR_AI", "-aec", calledAe, "127.0.0.1", String(engine.dicomPort), file]);
  const list = async (slug: string) => (await api(`/v1/tenants/${slug}/results`)).body.results as Array<Record<string, any>>;
  const harbor = { ttlDays: 7, calledAeTitles: ["HARBOR"], allowedCallingAeTitles: [] };
  const suspension = { since: "2026-12-07T10:00:00.000Z", reason: "Contract ended, ticket OPS-42" };

  /** Connects as a router; resolves with what it was sent and how it was closed (or "open" after hello). */
  const connect = (bundle: { certificatePem: string; privateKeyPem: string; caCertificatePem: string }) => {
    const ws = new WebSocket(`wss://localhost:${engine.gatewayPort}`, { cert: bundle.certificatePem, key: bundle.privateKeyPem, ca: bundle.caCertificatePem });
    const seen: Array<Record<string, any>> = [];
    ws.on("message", (d) => seen.push(JSON.parse(String(d))));
    ws.on("error", () => {});
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    return { ws, seen, closed };
  };

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    await put("harbor", { ...harbor, version: 1 });
    await put("other", { ttlDays: 7, calledAeTitles: ["OTHER"], allowedCallingAeTitles: [], version: 1 });
  });
  afterAll(async () => {
    await engine?.close();
    await dbs?.drop();
  });

  it("refuses the association with the reject reason, disconnects its router, and keeps what is held", async () => {
    expect((await store("HARBOR", CT)).code).toBe(0);
    const [held] = await list("harbor");
    const bundle = await enrolTestRouter(engine, TOKEN, "harbor", "harbor site");
    const router = connect(bundle);
    await until(() => router.seen, (s) => s.some((m) => m.type === "hello"));

    const applied = await put("harbor", { ...harbor, version: 2, suspended: suspension });
    expect(applied.status).toBe(200);
    expect(applied.body.suspended).toEqual(suspension);
    // The router is told why, then closed.
    expect(await router.closed).toEqual({ code: 4004, reason: "tenant suspended" });
    expect(router.seen.at(-1)).toMatchObject({ type: "error", message: expect.stringContaining("Contract ended, ticket OPS-42") });

    const refused = await store("HARBOR", MR);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr + refused.stdout).toMatch(/Association Rejected/i);
    expect(refused.stderr + refused.stdout).toMatch(/Rejected Permanent/i);
    expect(refused.stderr + refused.stdout).toMatch(/Called AE Title Not Recognized/i);
    // Reconnecting is refused, with the reason again.
    const again = connect(bundle);
    expect((await again.closed).code).toBe(4004);
    expect(again.seen).toEqual([{ type: "error", message: expect.stringContaining("tenant suspended since 2026-12-07T10:00:00.000Z") }]);
    expect((await api("/v1/tenants/harbor/routers")).body.routers[0].connected).toBe(false);

    // Nothing held was deleted, and its expiry is where it was; the other tenant still takes studies.
    const during = await list("harbor");
    expect(during).toHaveLength(1);
    expect(during[0]).toMatchObject({ id: held!.id, status: "notified", expiresAt: held!.expiresAt });
    expect((await engine.readResultBytes("harbor", held!.id)).length).toBe(held!.sizeBytes);
    expect((await store("OTHER", MR)).code).toBe(0);

    // Reactivated: associations are accepted again, and the router connects and is offered what is pending.
    const back = await put("harbor", { ...harbor, version: 3, suspended: null });
    expect(back.body.suspended).toBeNull();
    expect((await store("HARBOR", MR)).code).toBe(0);
    expect(await list("harbor")).toHaveLength(2);
    const later = connect(bundle);
    await until(() => later.seen, (s) => s.some((m) => m.type === "notify"));
    expect(later.seen.find((m) => m.type === "notify")!.results.map((r: { id: string }) => r.id)).toContain(held!.id);
    later.ws.close();
    expect((await list("harbor")).find((r) => r.id === held!.id)!.expiresAt).toBe(held!.expiresAt);
  });

  it("a config without `suspended` (an older console) is not suspended", async () => {
    const r = await put("other", { ttlDays: 7, calledAeTitles: ["OTHER"], allowedCallingAeTitles: [], version: 2 });
    expect(r.body.suspended).toBeNull();
    expect((await put("other", { ttlDays: 7, calledAeTitles: ["OTHER"], allowedCallingAeTitles: [], version: 3, suspended: { since: "x", reason: "" } })).status).toBe(400);
  });
});
