import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEngine } from "../../../test/engine";
import { freePort } from "../../../scripts/lib/ports";
import { createTestDatabases } from "../../../test/databases";
import { EngineError, EngineUnavailableError, createEngineClient, engineClientFromEnv } from "../client";

const TOKEN = "client-test-token-".padEnd(40, "y");

describe("typed engine client against the real engine", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
  });
  afterAll(async () => {
    await engine?.close();
    await dbs?.drop();
  });

  it("puts, gets and lists tenant config", async () => {
    const client = createEngineClient({ url: engine.url, token: TOKEN });
    expect(await client.health()).toEqual({ status: "ok", database: "ok" });
    expect(await client.getTenantConfig("nobody")).toBeNull();
    const applied = await client.putTenantConfig("acme", { ttlDays: 3, calledAeTitles: ["ACME"], allowedCallingAeTitles: [], version: 1 });
    expect(applied).toMatchObject({ slug: "acme", ttlDays: 3, version: 1 });
    expect(await client.getTenantConfig("acme")).toEqual(applied);
    expect(await client.listTenantConfigs()).toEqual([applied]);
  });

  it("surfaces the engine's error code and fields", async () => {
    const client = createEngineClient({ url: engine.url, token: TOKEN });
    await client.putTenantConfig("stale", { ttlDays: 3, calledAeTitles: [], allowedCallingAeTitles: [], version: 5 });
    const err = await client
      .putTenantConfig("stale", { ttlDays: 3, calledAeTitles: [], allowedCallingAeTitles: [], version: 4 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ status: 409, code: "stale_version" });
    const unauthorized = await createEngineClient({ url: engine.url, token: "nope" }).listTenantConfigs().catch((e) => e);
    expect(unauthorized).toMatchObject({ status: 401, code: "unauthorized" });
  });

  it("reports an unreachable engine as EngineUnavailableError", async () => {
    const client = createEngineClient({ url: `http://127.0.0.1:${await freePort()}`, token: TOKEN });
    await expect(client.health()).rejects.toBeInstanceOf(EngineUnavailableError);
  });

  it("names a missing ENGINE_ADMIN_URL or ENGINE_ADMIN_TOKEN", () => {
    const saved = { ...process.env };
    try {
      delete process.env.ENGINE_ADMIN_URL;
      process.env.ENGINE_ADMIN_TOKEN = TOKEN;
      expect(() => engineClientFromEnv()).toThrow(/ENGINE_ADMIN_URL/);
      process.env.ENGINE_ADMIN_URL = engine.url;
      delete process.env.ENGINE_ADMIN_TOKEN;
      expect(() => engineClientFromEnv()).toThrow(/ENGINE_ADMIN_TOKEN/);
    } finally {
      process.env = saved;
    }
  });
});
