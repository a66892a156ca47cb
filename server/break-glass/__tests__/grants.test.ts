// Break-glass grants against a real database: start, scope, expiry on a controlled clock, approval (never by the
// requester), revocation, the tenant's view of them, and the audit trail in both chains.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEntries, users } from "@/db/schema";
import { useConsoleDatabase } from "../../../test/console-db";
import { can, rolesFor } from "../../auth/permissions";
import type { TenantContext } from "../../context";
import { closeDb, db, withSystem, withTenant } from "../../db";
import { createTenant } from "../../tenancy/service";
import { approveGrant, closeDueGrants, grantContext, listTenantGrants, recordGrantAccess, requestGrant, revokeGrant, updatePolicy } from "../service";

const HOUR = 3_600_000;

describe("break-glass grants", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let engineer: { id: string; name: string; email: string };
  let northAdmin: TenantContext;
  let south: { id: string };
  const request = { justification: "router for site 2 stopped pulling since 02:00", ticket: "INC-4711" };

  const user = async (email: string, name: string) => {
    const [u] = await db().insert(users).values({ issuer: "https://idp.test", subject: email, email, name }).returning();
    return { id: u!.id, name, email };
  };
  const admin = (t: { id: string; slug: string; name: string }, u: { id: string; name: string; email: string }): TenantContext => ({
    tenantId: t.id,
    tenantSlug: t.slug,
    tenantName: t.name,
    roles: ["tenant_admin"],
    actor: { userId: u.id, name: u.name, email: u.email, roles: ["tenant_admin"] },
    requestId: "req",
  });

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    const north = await createTenant({ slug: "north", name: "North" });
    south = await createTenant({ slug: "south", name: "South" });
    engineer = await user("evan@vendor.test", "Evan Engineer");
    northAdmin = admin(north, await user("nora@north.test", "Nora"));
  });
  afterAll(async () => {
    await closeDb();
    await dbs?.drop();
  });

  it("a grant starts at once by default, gives its scope's role, and ends at its time on the engineer's clock", async () => {
    const t0 = new Date();
    const { grant } = await requestGrant(engineer, { tenant: "north", scope: "read_only", durationMinutes: 60, ...request }, t0);
    expect(grant.status).toBe("active");
    const ctx = await grantContext(engineer, "north", new Date(t0.getTime() + 59 * 60_000));
    expect(ctx?.role).toBe("engineer_read_only");
    expect(ctx?.actor.grantId).toBe(grant.id);
    // Read-only: every view, no mutation.
    expect(can([ctx!.role], "hold-queue.view")).toBe(true);
    for (const p of ["hold-queue.purge", "retention.update", "ae-titles.update", "routers.manage", "break-glass.manage"] as const) expect(can([ctx!.role], p), p).toBe(false);
    expect(rolesFor("retention.update")).not.toContain("engineer_read_only");
    expect(await grantContext(engineer, "north", new Date(t0.getTime() + 61 * 60_000))).toBeNull(); // expired
    expect(await grantContext(engineer, "south", t0)).toBeNull(); // another tenant
    expect(await closeDueGrants(new Date(t0.getTime() + 2 * HOUR))).toBe(1);
    const [after] = (await listTenantGrants(northAdmin)).filter((g) => g.id === grant.id);
    expect(after).toMatchObject({ status: "ended", closeReason: "expired" });
  });

  it("refuses what a person could fix, with messages", async () => {
    await expect(requestGrant(engineer, { tenant: "north", scope: "read_only", justification: "too short", ticket: "X" })).rejects.toThrow(/at least 20 characters/);
    await expect(requestGrant(engineer, { tenant: "north", scope: "read_write", ...request, durationMinutes: 300 })).rejects.toThrow(/At most 4 hours/);
    await expect(requestGrant(engineer, { tenant: "nowhere", scope: "read_only", ...request })).rejects.toThrow(/no tenant/);
  });

  it("with approval required, a request waits; its requester can never approve it; a tenant admin can; it lapses unanswered", async () => {
    await updatePolicy(northAdmin, { requireApproval: true, approvalWindowMinutes: 30 });
    const t0 = new Date();
    const { grant } = await requestGrant(engineer, { tenant: "north", scope: "read_write", ...request }, t0);
    expect(grant.status).toBe("pending");
    expect(await grantContext(engineer, "north", t0)).toBeNull();
    // The engineer, even holding an admin context on the tenant, cannot approve their own request.
    const selfApproval = { ...northAdmin, actor: { ...northAdmin.actor, userId: engineer.id, email: engineer.email } };
    await expect(approveGrant(selfApproval, grant.id, t0)).rejects.toThrow(/cannot approve your own request/);
    const approved = await approveGrant(northAdmin, grant.id, new Date(t0.getTime() + 60_000));
    expect(approved.status).toBe("active");
    expect((await grantContext(engineer, "north"))?.role).toBe("engineer_read_write");
    await revokeGrant(northAdmin, approved.id, null);

    const late = await requestGrant(engineer, { tenant: "north", scope: "read_only", ...request }, t0);
    await expect(approveGrant(northAdmin, late.grant.id, new Date(t0.getTime() + 31 * 60_000))).rejects.toThrow(/lapsed/);
    await closeDueGrants(new Date(t0.getTime() + 31 * 60_000));
    expect((await listTenantGrants(northAdmin)).find((g) => g.id === late.grant.id)?.status).toBe("lapsed");
    await updatePolicy(northAdmin, { requireApproval: false, approvalWindowMinutes: 60 });
  });

  it("a revoked grant gives nothing; what was done under it is listed for the tenant and tagged in both chains", async () => {
    const { grant } = await requestGrant(engineer, { tenant: "north", scope: "read_write", ...request });
    const granted = await grantContext(engineer, "north");
    const ctx: TenantContext = { tenantId: granted!.tenant.id, tenantSlug: "north", tenantName: "North", roles: [granted!.role], actor: granted!.actor, requestId: "r1" };
    await recordGrantAccess(ctx, "GET /t/north/hold-queue");
    await revokeGrant(northAdmin, grant.id, "not agreed");
    expect(await grantContext(engineer, "north")).toBeNull();
    const listed = (await listTenantGrants(northAdmin)).find((g) => g.id === grant.id)!;
    expect(listed.status).toBe("revoked");
    expect(listed.access.map((a) => a.action)).toEqual(expect.arrayContaining(["break-glass.start", "break-glass.access"]));
    const global = await withSystem((tx) => tx.select().from(auditEntries).where(eq(auditEntries.grantId, grant.id)));
    expect(global.map((e) => e.action)).toEqual(expect.arrayContaining(["break-glass.start", "break-glass.access"]));
  });

  it("another tenant sees none of these grants", async () => {
    const southCtx = admin({ id: south.id, slug: "south", name: "South" }, await user("sam@south.test", "Sam"));
    expect(await listTenantGrants(southCtx)).toEqual([]);
    const seen = await withTenant(southCtx, (tx) => tx.select().from(auditEntries).where(eq(auditEntries.chain, northAdmin.tenantId)));
    expect(seen).toEqual([]);
  });
});
