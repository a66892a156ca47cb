// Webhooks against a real database and a real HTTP receiver: the secret is shown once and stored encrypted,
// deliveries are signed over timestamp and body, a failing receiver's attempts are logged (and the job throws so
// pg-boss retries it), private addresses are refused outside development, and another tenant sees nothing.
import { createHmac, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users, webhookDeliveries, webhookEndpoints } from "@/db/schema";
import { useConsoleDatabase } from "../../../test/console-db";
import type { TenantContext } from "../../context";
import { closeDb, db, withTenant } from "../../db";
import { createTenant } from "../../tenancy/service";
import { deliver } from "../../worker/webhook-job";
import { createWebhook, listWebhooks, sendTestWebhook } from "../service";
import { isPrivateAddress, webhookUrlProblem } from "../url-check";

describe("webhooks", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let north: TenantContext;
  let south: TenantContext;
  let server: http.Server;
  let status = 204;
  const got: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  let url = "";

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
    const [u] = await db().insert(users).values({ issuer: "https://idp.test", subject: "ada", email: "ada@test", name: "Ada" }).returning();
    north = ctxOf(await createTenant({ slug: "north", name: "North" }), u!.id);
    south = ctxOf(await createTenant({ slug: "south", name: "South" }), u!.id);
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        got.push({ headers: req.headers, body });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    server?.close();
    await closeDb();
    await dbs?.drop();
  });

  it("signs each delivery over its timestamp and body with the secret shown once (stored encrypted)", async () => {
    const { id, secret } = await createWebhook(north, { url, events: ["milestone"] });
    const [stored] = await withTenant(north, (tx) => tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)));
    expect(stored!.secretEncrypted).not.toContain(secret);
    await sendTestWebhook(north, id);
    const [delivery] = await withTenant(north, (tx) => tx.select().from(webhookDeliveries));
    await deliver({ tenantId: north.tenantId, deliveryId: delivery!.id });
    const d = got.at(-1)!;
    const ts = d.headers["x-webhook-timestamp"] as string;
    expect(d.headers["x-webhook-signature"]).toBe(`sha256=${createHmac("sha256", secret).update(`${ts}.${d.body}`).digest("hex")}`);
    expect(JSON.parse(d.body)).toMatchObject({ id: delivery!.id, event: "test", data: { tenant: "north" } });
    const [after] = await withTenant(north, (tx) => tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, delivery!.id)));
    expect(after).toMatchObject({ attempts: 1, lastStatus: 204, lastError: null });
    expect(after!.deliveredAt).not.toBeNull();
  });

  it("a failing receiver: the attempt is logged with its code and the job throws (pg-boss retries it)", async () => {
    status = 500;
    const { id } = await createWebhook(north, { url, events: ["anomaly"] });
    await sendTestWebhook(north, id);
    const mine = await withTenant(north, (tx) => tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, id)));
    await expect(deliver({ tenantId: north.tenantId, deliveryId: mine[0]!.id })).rejects.toThrow(/HTTP 500/);
    await expect(deliver({ tenantId: north.tenantId, deliveryId: mine[0]!.id })).rejects.toThrow(/HTTP 500/);
    const [after] = await withTenant(north, (tx) => tx.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, mine[0]!.id)));
    expect(after).toMatchObject({ attempts: 2, lastStatus: 500, deliveredAt: null });
    expect((after!.log as { status: number }[]).map((l) => l.status)).toEqual([500, 500]);
    status = 204;
  });

  it("another tenant sees none of it, and cannot send to another tenant's receiver", async () => {
    const theirs = await listWebhooks(south);
    expect(theirs.endpoints).toEqual([]);
    expect(theirs.deliveries).toEqual([]);
    const mine = await listWebhooks(north);
    await expect(sendTestWebhook(south, mine.endpoints[0]!.id)).rejects.toThrow(/No such webhook/);
  });

  it("refuses private, loopback and link-local receivers and plain http outside development", async () => {
    expect(["10.1.2.3", "127.0.0.1", "169.254.169.254", "192.168.1.1", "172.20.0.1", "::1", "fd00::1", "::ffff:10.0.0.1"].every(isPrivateAddress)).toBe(true);
    expect(["93.184.216.34", "2606:4700::1111"].some(isPrivateAddress)).toBe(false);
    expect(await webhookUrlProblem("https://127.0.0.1/x", false)).toMatch(/private, loopback/);
    expect(await webhookUrlProblem("https://169.254.169.254/latest", false)).toMatch(/private, loopback/);
    expect(await webhookUrlProblem("http://hooks.example.org/x", false)).toMatch(/https/);
    expect(await webhookUrlProblem("https://user:pw@hooks.example.org/x", false)).toMatch(/credentials/);
    expect(await webhookUrlProblem("not a url", false)).toMatch(/full URL/);
    expect(await webhookUrlProblem(url, true)).toBeNull();
  });
});
