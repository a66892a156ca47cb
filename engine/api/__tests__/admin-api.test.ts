import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import { createTestDatabases } from "../../../test/databases";
import { loadEngineConfig } from "../../config";
import { startTestEngine } from "../../../test/engine";

const TOKEN = "engine-test-token-".padEnd(48, "x");

describe("engine admin API", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  const api = (path: string, init: RequestInit = {}, token: string | null = TOKEN) =>
    fetch(engine.url + path, {
      ...init,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as object) },
    });
  const put = (slug: string, body: unknown) => api(`/v1/tenants/${slug}`, { method: "PUT", body: typeof body === "string" ? body : JSON.stringify(body) });
  const valid = { ttlDays: 7, calledAeTitles: ["NORTHSIDE"], allowedCallingAeTitles: ["VENDOR_AI"], version: 1 };

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
  });
  afterAll(async () => {
    await engine?.close();
    await dbs?.drop();
  });

  it("refuses requests without the token or with a wrong one", async () => {
    for (const token of [null, "wrong", TOKEN + "x", TOKEN.slice(0, -1)]) {
      const res = await api("/v1/tenants", {}, token);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(await res.json()).toMatchObject({ error: "unauthorized" });
    }
  });

  it("serves health and the OpenAPI document without a token", async () => {
    expect(await (await api("/healthz", {}, null)).json()).toEqual({ status: "ok", database: "ok" });
    const doc = await (await api("/openapi.json", {}, null)).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/healthz", "/v1/tenants/{slug}", "/v1/tenants", "/v1/tenants/{slug}/results", "/v1/tenants/{slug}/results/{id}/purge", "/v1/events"]),
    );
    expect(doc.paths["/v1/tenants/{slug}"].put.requestBody.content["application/json"].schema).toBeDefined();
  });

  it("applies a valid config and returns it in the same shape", async () => {
    const res = await put("northside", { ...valid, calledAeTitles: ["  NORTHSIDE  "] });
    expect(res.status).toBe(200);
    const applied = await res.json();
    expect(applied).toMatchObject({ ...valid, slug: "northside" });
    const got = await (await api("/v1/tenants/northside")).json();
    expect(got).toEqual(applied);
    expect((await (await api("/v1/tenants")).json()).tenants).toEqual([applied]);
  });

  it.each([0, 31, 7.5, "7", null, -1])("refuses ttlDays %s with a 400 naming the field", async (ttlDays) => {
    const res = await put("northside", { ...valid, ttlDays, version: 2 });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toBe("invalid_request");
    expect(body.fields.ttlDays?.length).toBeGreaterThan(0);
  });

  it.each([["A".repeat(17)], ["BACK\\SLASH"], ["TAB\tHERE"], ["   "], [""], ["ÄRZTE"]])("refuses AE title %j", async (ae) => {
    const res = await put("northside", { ...valid, calledAeTitles: [ae], version: 2 });
    expect(res.status).toBe(400);
    expect(Object.keys((await res.json()).fields).join()).toMatch(/calledAeTitles/);
  });

  it("refuses malformed JSON, unknown fields and bad slugs with 400, never 500", async () => {
    expect((await put("northside", "{not json")).status).toBe(400);
    expect((await put("northside", { ...valid, version: 2, extra: true })).status).toBe(400);
    expect((await put("Not_A_Slug", valid)).status).toBe(400);
    expect((await api("/v1/nothing")).status).toBe(404);
  });

  it("refuses a stale version and is idempotent for the same one", async () => {
    expect((await put("versioned", { ...valid, calledAeTitles: ["V1"], version: 3 })).status).toBe(200);
    expect((await put("versioned", { ...valid, calledAeTitles: ["V1"], version: 3 })).status).toBe(200);
    const stale = await put("versioned", { ...valid, calledAeTitles: ["V1"], ttlDays: 2, version: 2 });
    expect(stale.status).toBe(409);
    expect((await stale.json()).error).toBe("stale_version");
    expect((await (await api("/v1/tenants/versioned")).json()).ttlDays).toBe(7);
  });

  it("routes a called AE title to one tenant only", async () => {
    const res = await put("lakeview", { ...valid, calledAeTitles: ["NORTHSIDE"] });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: "ae_title_taken", message: expect.stringContaining("NORTHSIDE") });
    expect((await api("/v1/tenants/lakeview")).status).toBe(404);
  });

  it("writes a config.applied event with before and after in the same transaction", async () => {
    await put("evented", { ...valid, calledAeTitles: ["EV"], version: 1 });
    await put("evented", { ...valid, calledAeTitles: ["EV"], ttlDays: 9, version: 2 });
    const sql = postgres(dbs.engineUrl, { max: 1 });
    const events = await sql`select type, payload from engine_events where tenant_slug = 'evented' order by id`;
    await sql.end();
    expect(events.map((e) => e.type)).toEqual(["config.applied", "config.applied"]);
    expect(events[1]!.payload).toMatchObject({ before: { ttlDays: 7, version: 1 }, after: { ttlDays: 9, version: 2 } });
  });

  it("names the missing or malformed variable at start-up", () => {
    const ok = {
      ENGINE_DATABASE_URL: dbs.engineUrl,
      ENGINE_ADMIN_TOKEN: TOKEN,
      ENGINE_MASTER_KEY: Buffer.alloc(32, 1).toString("base64"),
      ENGINE_CA_CERT_FILE: "/etc/router-ca.pem",
      ENGINE_CA_KEY_FILE: "/etc/router-ca.key",
    };
    expect(() => loadEngineConfig({ ...ok, ENGINE_DATABASE_URL: undefined })).toThrow(/ENGINE_DATABASE_URL/);
    expect(() => loadEngineConfig({ ...ok, ENGINE_ADMIN_TOKEN: "short" })).toThrow(/ENGINE_ADMIN_TOKEN/);
    expect(() => loadEngineConfig({ ...ok, ENGINE_ADMIN_PORT: "http" })).toThrow(/ENGINE_ADMIN_PORT/);
    expect(() => loadEngineConfig({ ...ok, ENGINE_MASTER_KEY: "dG9vIHNob3J0" })).toThrow(/ENGINE_MASTER_KEY/);
    expect(() => loadEngineConfig({ ...ok, ENGINE_CA_KEY_FILE: undefined })).toThrow(/ENGINE_CA_KEY_FILE: required in hosted mode/);
    expect(() => loadEngineConfig({ ...ok, ENGINE_MODE: "self-hosted" })).toThrow(/ENGINE_SELF_HOSTED_TENANT/);
    expect(loadEngineConfig(ok).ENGINE_ADMIN_PORT).toBe(7400);
  });
});
