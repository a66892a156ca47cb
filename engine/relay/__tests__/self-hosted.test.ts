import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { enrolTestRouter } from "../../../test/routers";

const TOKEN = "self-hosted-token-".padEnd(48, "s");

describe("self-hosted mode", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  beforeAll(async () => {
    dbs = await createTestDatabases();
  });
  afterAll(async () => dbs?.drop());

  it("serves exactly one tenant and keeps the CA it created at first boot across restarts", async () => {
    const env = { ENGINE_MODE: "self-hosted", ENGINE_SELF_HOSTED_TENANT: "clinic" };
    let engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env });
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    const put = (slug: string) =>
      fetch(`${engine.url}/v1/tenants/${slug}`, {
        method: "PUT",
        headers,
        body: JSON.stringify({ ttlDays: 7, calledAeTitles: [slug.toUpperCase()], allowedCallingAeTitles: [], version: 1 }),
      });
    expect((await put("clinic")).status).toBe(200);
    const other = await put("elsewhere");
    expect(other.status).toBe(409);
    expect((await other.json()).error).toBe("single_tenant");

    const bundle = await enrolTestRouter(engine, TOKEN, "clinic", "clinic");
    const firstCa = engine.caCertPem;
    const { masterKey, blobDir } = engine;
    await engine.close();

    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env, masterKey, blobDir });
    try {
      expect(engine.caCertPem).toBe(firstCa);
      // The router enrolled before the restart still connects.
      const hello = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(`wss://localhost:${engine.gatewayPort}`, { cert: bundle.certificatePem, key: bundle.privateKeyPem, ca: bundle.caCertificatePem });
        ws.once("message", (d) => (ws.close(), resolve(String(d))));
        ws.once("error", reject);
      });
      expect(JSON.parse(hello)).toMatchObject({ type: "hello", tenant: "clinic" });
    } finally {
      await engine.close();
    }
  });
});
