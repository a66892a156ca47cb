// Onboarding against the real console database: an engineer creates a tenant (one transaction, both audit chains,
// its first admin invited), the tenant admin invites, changes and removes members with every change audited; the
// last admin stays, nobody changes their own roles, an invitation lapses, and another tenant's admin cannot.
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEntries, memberships, tenantConfigs, tenants, users } from "@/db/schema";
import { useConsoleDatabase } from "../../../test/console-db";
import { recordSignIn } from "../../auth/sign-in";
import type { TenantContext } from "../../context";
import { closeDb, db, withSystem, withTenant } from "../../db";
import { ForbiddenError, NotFoundError } from "../../errors";
import { changeRole, inviteMember, listMembers, removeMember } from "../members";
import { createTenantAsEngineer } from "../operations";

describe("tenants and members", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  const engineer = { id: "", name: "Evan Engineer", email: "evan@vendor.test", isEngineer: true };
  const people: Record<string, { id: string; email: string; name: string }> = {};
  const ctxOf = (t: { id: string; slug: string; name: string }, who: string, grant = false): TenantContext => ({
    tenantId: t.id,
    tenantSlug: t.slug,
    tenantName: t.name,
    roles: [grant ? "engineer_read_write" : "tenant_admin"],
    actor: { userId: people[who]!.id, name: people[who]!.name, email: people[who]!.email, roles: ["tenant_admin"] },
    requestId: "req",
    ...(grant ? { grant: { id: "g", scope: "read_write" as const, endsAt: new Date(Date.now() + 3_600_000).toISOString() } } : {}),
  });
  const signIn = (email: string, sub = email) => recordSignIn({ iss: "https://idp.test", sub, email, email_verified: true, name: email.split("@")[0] } as never, false);
  let north: { id: string; slug: string; name: string };
  let south: { id: string; slug: string; name: string };

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    const [e] = await db().insert(users).values({ issuer: "https://idp.test", subject: "evan", email: engineer.email, name: engineer.name }).returning();
    engineer.id = e!.id;
  });
  afterAll(async () => {
    await closeDb();
    await dbs?.drop();
  });

  it("an engineer creates a tenant with its config, AE title and invited admin, audited in both chains", async () => {
    await expect(createTenantAsEngineer({ ...engineer, isEngineer: false }, {})).rejects.toThrow(ForbiddenError);
    await expect(createTenantAsEngineer(engineer, { slug: "Bad Slug", name: "X", ttlDays: "7", calledAeTitles: "", adminEmail: "a@x.test" })).rejects.toMatchObject({ fields: { slug: expect.any(Array) } });
    await expect(createTenantAsEngineer(engineer, { slug: "ok", name: "X", ttlDays: "99", calledAeTitles: "", adminEmail: "nope" })).rejects.toThrow();
    north = await createTenantAsEngineer(engineer, { slug: "north", name: "North Radiology", ttlDays: "10", calledAeTitles: "north, NORTH2", adminEmail: "Ada@North.test" });
    south = await createTenantAsEngineer(engineer, { slug: "south", name: "South", ttlDays: "7", calledAeTitles: "SOUTH", adminEmail: "sam@south.test" });
    // Slug and called AE titles are unique: refused with a message naming neither the other tenant nor losing it.
    await expect(createTenantAsEngineer(engineer, { slug: "north", name: "Again", ttlDays: "7", calledAeTitles: "", adminEmail: "a@x.test" })).rejects.toMatchObject({ fields: { slug: ["already in use"] } });
    await expect(createTenantAsEngineer(engineer, { slug: "east", name: "East", ttlDays: "7", calledAeTitles: "SOUTH", adminEmail: "a@x.test" })).rejects.toMatchObject({ fields: { calledAeTitles: ["already in use by another tenant"] } });
    // The refused "east" left nothing behind: the tenant row went with the transaction.
    expect((await withSystem((tx) => tx.select({ slug: tenants.slug }).from(tenants).orderBy(tenants.slug))).map((t) => t.slug)).toEqual(["north", "south"]);
    const sys = { tenantId: north.id, actor: { userId: engineer.id, name: engineer.name, email: engineer.email, roles: ["engineer"] } };
    const [config] = await withTenant(sys, (tx) => tx.select().from(tenantConfigs));
    expect(config).toMatchObject({ ttlDays: 10, version: 1 });
    const [invite] = await withTenant(sys, (tx) => tx.select().from(memberships));
    expect(invite).toMatchObject({ email: "ada@north.test", role: "tenant_admin", userId: null, invitedBy: "Evan Engineer" });
    expect(invite!.invitationExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 13 * 86_400_000);
    const tenantChain = await withTenant(sys, (tx) => tx.select().from(auditEntries).where(eq(auditEntries.action, "tenant.create")));
    expect(tenantChain[0]!.actor).toMatchObject({ name: "Evan Engineer" });
    const global = await withSystem((tx) => tx.select().from(auditEntries).where(and(eq(auditEntries.chain, "global"), eq(auditEntries.action, "ops.tenant.create"))));
    expect(global.map((g) => g.target)).toEqual(["tenant:north", "tenant:south"]);

    // The invited admin signs in and is the tenant's admin.
    await signIn("ada@north.test");
    people.ada = { id: (await db().select().from(users).where(eq(users.email, "ada@north.test")))[0]!.id, email: "ada@north.test", name: "Ada" };
    expect((await listMembers(ctxOf(north, "ada")))[0]).toMatchObject({ email: "ada@north.test", linked: true });
  });

  it("the admin invites, changes and removes members, audited with old and new role; the rules hold", async () => {
    const ada = ctxOf(north, "ada");
    const ben = await inviteMember(ada, { email: "Ben@North.test", role: "clinical_reviewer" });
    await expect(inviteMember(ada, { email: "ben@north.test", role: "clinical_reviewer" })).rejects.toThrow(/already has the role/);
    await expect(inviteMember(ada, { email: "not-an-email", role: "clinical_reviewer" })).rejects.toThrow(/e-mail address/);
    await expect(inviteMember(ada, { email: "x@north.test", role: "owner" })).rejects.toThrow(/Choose a role/);
    // Nobody gives themselves a role or changes their own; the last signed-in admin stays.
    await expect(inviteMember(ada, { email: "ada@north.test", role: "migration_operator" })).rejects.toThrow(ForbiddenError);
    const own = (await listMembers(ada)).find((m) => m.email === "ada@north.test")!;
    await expect(changeRole(ada, own.id, "clinical_reviewer")).rejects.toThrow(ForbiddenError);

    await changeRole(ada, ben.id, "senior_reviewer");
    const entries = await withTenant(ada, (tx) => tx.select().from(auditEntries).where(eq(auditEntries.action, "members.change-role")));
    expect(entries.map((e) => [e.target, e.before, e.after])).toEqual([["member:ben@north.test", { role: "clinical_reviewer" }, { role: "senior_reviewer" }]]);

    // A second admin who has signed in lets the first be changed; the last one cannot be demoted or removed.
    const cyd = await inviteMember(ada, { email: "cyd@north.test", role: "tenant_admin" });
    await signIn("cyd@north.test");
    people.cyd = { id: (await db().select().from(users).where(eq(users.email, "cyd@north.test")))[0]!.id, email: "cyd@north.test", name: "Cyd" };
    const cydCtx = ctxOf(north, "cyd");
    await removeMember(cydCtx, own.id);
    await expect(removeMember(cydCtx, cyd.id)).rejects.toThrow(ForbiddenError);
    await inviteMember(cydCtx, { email: "dee@north.test", role: "tenant_admin" }); // invited, not signed in: does not count
    const deeRow = (await listMembers(cydCtx)).find((m) => m.email === "dee@north.test")!;
    await expect(changeRole(ctxOf(north, "ada"), cyd.id, "clinical_reviewer")).rejects.toThrow(/last admin/);
    await removeMember(cydCtx, deeRow.id);
    const removed = await withTenant(cydCtx, (tx) => tx.select().from(auditEntries).where(eq(auditEntries.action, "members.remove")));
    expect(removed.map((e) => e.before)).toEqual([{ email: "ada@north.test", role: "tenant_admin", linked: true }, { email: "dee@north.test", role: "tenant_admin", linked: false }]);
  });

  it("an invitation lapses: signing in after it expired takes nothing up", async () => {
    const cyd = ctxOf(north, "cyd");
    const late = await inviteMember(cyd, { email: "late@north.test", role: "clinical_reviewer" });
    await withTenant(cyd, (tx) => tx.update(memberships).set({ invitationExpiresAt: new Date(Date.now() - 1000) }).where(eq(memberships.id, late.id)));
    await signIn("late@north.test");
    expect((await listMembers(cyd)).find((m) => m.email === "late@north.test")).toMatchObject({ linked: false });
  });

  it("another tenant's admin, or an engineer under a grant, cannot manage these members", async () => {
    await signIn("sam@south.test");
    people.sam = { id: (await db().select().from(users).where(eq(users.email, "sam@south.test")))[0]!.id, email: "sam@south.test", name: "Sam" };
    const northMember = (await listMembers(ctxOf(north, "cyd"))).find((m) => m.email === "ben@north.test")!;
    const sam = ctxOf(south, "sam");
    expect((await listMembers(sam)).map((m) => m.email)).toEqual(["sam@south.test"]);
    await expect(changeRole(sam, northMember.id, "tenant_admin")).rejects.toThrow(NotFoundError);
    await expect(removeMember(sam, northMember.id)).rejects.toThrow(NotFoundError);
    people.evan = { id: engineer.id, email: engineer.email, name: engineer.name };
    await expect(inviteMember(ctxOf(north, "evan", true), { email: "spy@vendor.test", role: "tenant_admin" })).rejects.toThrow(ForbiddenError);
    expect((await listMembers(ctxOf(north, "cyd"))).find((m) => m.email === "ben@north.test")).toMatchObject({ role: "senior_reviewer" });
  });
});
