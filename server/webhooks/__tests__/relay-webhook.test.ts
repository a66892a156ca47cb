// A result the engine flags "delivery failing" reaches the tenant's "relay" webhooks: the delivery is recorded in
// the transaction that ingests the engine's event into the audit chain (once, however often the ingest runs), the
// worker sends it, and another tenant's receivers get nothing.
import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { auditEntries, users, webhookDeliveries } from "@/db/schema";
import { useConsoleDatabase } from "../../../test/console-db";
import { startTestEngine } from "../../../test/engine";
import { drainEngineEvents } from "../../audit/engine-events";
import type { TenantContext } from "../../context";
import { closeDb, db, withTenant } from "../../db";
import { createEngineClient } from "../../engine/client";
import { createTenant } from "../../tenancy/service";
import { deliver } from "../../worker/webhook-job";
import { createWebhook } from "../service";

const TOKEN = "w".repeat(40);

describe("relay webhooks", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let engineDb: postgres.Sql;
  let server: http.Server;
  let url = "";
  const got: string[] = [];
  let north: TenantContext;
  let south: TenantContext;

  const ctxOf = (t: { id: string; slug: string; name: string }, userId: string): TenantContext => ({
    tenantId: t.id,
    tenantSlug: t.slug,
    tenantName: t.name,
    roles: ["tenant_admin"],
    actor: { userId, name: "Ada Admin", email: "ada@test", roles: ["tenant_admin"] },
    requestId: "req",
  });

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    process.env.AUTH_SECRET ??= randomBytes(33).toString("base64");
    process.env.AUTH_URL ??= "http://localhost:3000";
    process.env.AUTH_OIDC_ISSUER ??= "http://localhost:3001";
    process.env.AUTH_OIDC_CLIENT_ID ??= "console";
    process.env.AUTH_OIDC_CLIENT_SECRET ??= "secret";
    process.env.WEBHOOKS_ALLOW_PRIVATE = "1";
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    engineDb = postgres(dbs.engineUrl, { max: 2, onnotice: () => {} });
    const [u] = await db().insert(users).values({ issuer: "https://idp.test", subject: "ada", email: "ada@test", name: "Ada" }).returning();
    north = ctxOf(await createTenant({ slug: "north", name: "North" }), u!.id);
    south = ctxOf(await createTenant({ slug: "south", name: "South" }), u!.id);
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => (got.push(body), res.writeHead(204).end()));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    server?.close();
    await engineDb?.end();
    await engine?.close();
    await closeDb();
    await dbs?.drop();
  });

  it("records one delivery per subscribed receiver of the tenant when result.delivery_failing is ingested, and sends it", async () => {
    const relayHook = await createWebhook(north, { url, events: ["relay"] });
    await createWebhook(north, { url, events: ["milestone"] }); // not subscribed to relay
    await createWebhook(south, { url, events: ["relay"] }); // another tenant's
    const client = createEngineClient({ url: engine.url, token: TOKEN });
    await drainEngineEvents(client); // whatever the engine wrote at start-up

    const resultId = randomUUID();
    const since = new Date().toISOString();
    await engineDb`insert into engine_events (tenant_slug, type, payload) values ('north', 'result.delivery_failing', ${engineDb.json({
      resultId,
      routerId: randomUUID(),
      sopInstanceUid: "1.2.826.0.1.3680043.8.498.1",
      studyInstanceUid: null,
      modality: "CT",
      reason: "the PACS did not accept the instance: association rejected",
      attempts: 5,
      since,
    })})`;
    expect(await drainEngineEvents(client)).toBe(1);
    expect(await drainEngineEvents(client)).toBe(0); // ingested once: no second delivery

    const mine = await withTenant(north, (tx) => tx.select().from(webhookDeliveries));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ endpointId: relayHook.id, event: "result.delivery_failing" });
    expect(mine[0]!.payload).toMatchObject({ kind: "relay", tenant: "north", resultId, attempts: 5, since, reason: expect.stringMatching(/did not accept/) });
    expect(await withTenant(south, (tx) => tx.select().from(webhookDeliveries))).toEqual([]);

    // The audit entry and the delivery are one transaction's work: the entry is there too.
    const audit = await withTenant(north, (tx) =>
      tx.select({ action: auditEntries.action, target: auditEntries.target }).from(auditEntries).where(eq(auditEntries.action, "result.delivery_failing")),
    );
    expect(audit).toEqual([{ action: "result.delivery_failing", target: `result:${resultId}` }]);

    await deliver({ tenantId: north.tenantId, deliveryId: mine[0]!.id });
    expect(JSON.parse(got.at(-1)!)).toMatchObject({ event: "result.delivery_failing", data: { tenant: "north", resultId } });
  });

  it("announces a router gone stale to the same receivers, once", async () => {
    const client = createEngineClient({ url: engine.url, token: TOKEN });
    await drainEngineEvents(client);
    const before = (await withTenant(north, (tx) => tx.select().from(webhookDeliveries))).length;
    const routerId = randomUUID();
    await engineDb`insert into engine_events (tenant_slug, type, payload) values ('north', 'router.stale', ${engineDb.json({ routerId, name: "site 2", lastHeartbeatAt: new Date().toISOString(), disconnectedAt: null, staleAfterSeconds: 90 })})`;
    expect(await drainEngineEvents(client)).toBe(1);
    expect(await drainEngineEvents(client)).toBe(0);
    const mine = await withTenant(north, (tx) => tx.select().from(webhookDeliveries));
    expect(mine).toHaveLength(before + 1);
    expect(mine.find((d) => d.event === "router.stale")!.payload).toMatchObject({ kind: "relay", tenant: "north", routerId, name: "site 2", message: expect.stringContaining("has not been heard from") });
    expect((await withTenant(south, (tx) => tx.select().from(webhookDeliveries))).filter((d) => d.event === "router.stale")).toEqual([]);
  });
});
