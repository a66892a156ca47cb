// The licence's expiry webhook against a real console database: 30 and 7 days ahead and once expired, each once,
// to the receivers that subscribed to "licence" (never to the others); nothing for hosted or perpetual licences.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { users, webhookDeliveries } from "@/db/schema";
import type { LicenceStatus } from "@/engine/api/contract";
import { useConsoleDatabase } from "../../../test/console-db";
import type { TenantContext } from "../../context";
import { closeDb, db, withTenant } from "../../db";
import { createTenant } from "../../tenancy/service";
import { createWebhook } from "../../webhooks/service";
import { announceLicenceNotices, licenceNoticeFor } from "../notices";

const status = (daysToExpiry: number | null, over: Partial<LicenceStatus> = {}): LicenceStatus => ({
  mode: "self-hosted",
  status: daysToExpiry !== null && daysToExpiry <= 0 ? "expired" : "valid",
  message: "m",
  warning: daysToExpiry !== null && daysToExpiry <= 30 ? `The licence expires in ${daysToExpiry} day(s)` : null,
  licence: {
    licensee: "Clinic",
    deploymentId: "clinic-01",
    mode: "self-hosted",
    features: ["relay", "migration"],
    limits: { routers: null, tenants: null, migratedTb: null },
    issuedAt: "2026-01-01",
    expiresAt: daysToExpiry === null ? null : "2027-01-31",
    maintenanceEndsAt: "2027-01-31",
  },
  usage: { routers: 0, tenants: 1, migratedTb: 0 },
  daysToExpiry,
  checkedAt: null,
  ...over,
});

describe("licence expiry webhook", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let clinic: TenantContext;

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    process.env.AUTH_SECRET ??= randomBytes(33).toString("base64");
    process.env.AUTH_URL ??= "http://localhost:3000";
    process.env.AUTH_OIDC_ISSUER ??= "http://localhost:3001";
    process.env.AUTH_OIDC_CLIENT_ID ??= "console";
    process.env.AUTH_OIDC_CLIENT_SECRET ??= "secret";
    process.env.WEBHOOKS_ALLOW_PRIVATE = "1";
    const [u] = await db().insert(users).values({ issuer: "https://idp.test", subject: "ada", email: "ada@test", name: "Ada" }).returning();
    const t = await createTenant({ slug: "clinic", name: "Clinic" });
    clinic = { tenantId: t.id, tenantSlug: t.slug, tenantName: t.name, roles: ["tenant_admin"], actor: { userId: u!.id, name: "Ada", email: "ada@test", roles: ["tenant_admin"] }, requestId: "req" };
  });
  afterAll(async () => {
    await closeDb();
    await dbs?.drop();
  });

  it("names the threshold passed; hosted, perpetual and far-off licences announce nothing", () => {
    expect(licenceNoticeFor(status(45))).toBeNull();
    expect(licenceNoticeFor(status(null))).toBeNull();
    expect(licenceNoticeFor(status(null, { mode: "hosted", status: "not_required", licence: null }))).toBeNull();
    expect(licenceNoticeFor(status(30))).toMatchObject({ key: "licence:2027-01-31:30", payload: { event: "licence.expiring", daysToExpiry: 30 } });
    expect(licenceNoticeFor(status(5))?.key).toBe("licence:2027-01-31:7");
    expect(licenceNoticeFor(status(0))).toMatchObject({ key: "licence:2027-01-31:expired", payload: { event: "licence.expired" } });
  });

  it("records one delivery per threshold to the receivers subscribed to licence notices", async () => {
    await createWebhook(clinic, { url: "http://127.0.0.1:9/licence", events: ["licence"] });
    await createWebhook(clinic, { url: "http://127.0.0.1:9/milestones", events: ["milestone"] });
    const engineAt = (days: number) => ({ licence: async () => status(days) });
    expect(await announceLicenceNotices(engineAt(29))).toBe(1);
    expect(await announceLicenceNotices(engineAt(28))).toBe(0); // the 30-day notice is sent once
    expect(await announceLicenceNotices(engineAt(6))).toBe(1);
    expect(await announceLicenceNotices(engineAt(-1))).toBe(1);
    expect(await announceLicenceNotices(engineAt(-2))).toBe(0);
    const rows = await withTenant(clinic, (tx) => tx.select().from(webhookDeliveries));
    expect(rows.map((r) => r.event).sort()).toEqual(["licence.expired", "licence.expiring", "licence.expiring"]);
    expect(rows[0]!.payload).toMatchObject({ kind: "licence", tenant: "clinic", deploymentId: "clinic-01", expiresAt: "2027-01-31" });
  });
});
