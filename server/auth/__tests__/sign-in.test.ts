import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { auditEntries, users } from "@/db/schema";
import { useConsoleDatabase } from "../../../test/console-db";
import { closeDb, db, withSystem } from "../../db";
import { createTenant, listMyTenants } from "../../tenancy/service";
import { isEngineerClaims, recordSignIn } from "../sign-in";

const claims = (over: Partial<Parameters<typeof recordSignIn>[0]> = {}) => ({
  iss: "https://idp.example",
  sub: "sub-1",
  email: "Pat@Hospital.test",
  email_verified: true,
  name: "Pat",
  ...over,
});

describe("first sign-in matches memberships by verified e-mail", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    await createTenant({ slug: "hosp", name: "Hospital", members: [{ email: "pat@hospital.test", role: "tenant_admin" }] });
    await createTenant({ slug: "else", name: "Elsewhere", members: [{ email: "mallory@hospital.test", role: "tenant_admin" }] });
  });
  afterAll(async () => {
    await closeDb();
    await dbs?.drop();
  });

  it("an unverified e-mail gets no tenant", async () => {
    const user = await recordSignIn(claims({ sub: "unverified", email_verified: false }), false);
    expect(await listMyTenants({ userId: user.id, email: user.email })).toEqual([]);
  });

  it("a verified e-mail (any case) links the invitation; signing in again changes nothing", async () => {
    const user = await recordSignIn(claims(), false);
    const again = await recordSignIn(claims({ name: "Pat Renamed" }), false);
    expect(again.id).toBe(user.id);
    const tenants = await listMyTenants({ userId: user.id, email: user.email });
    expect(tenants.map((t) => [t.slug, t.roles])).toEqual([["hosp", ["tenant_admin"]]]);
    expect((await db().select().from(users).where(eq(users.id, user.id)))[0]?.name).toBe("Pat Renamed");
  });

  it("does not give another person's invitation", async () => {
    const user = await recordSignIn(claims({ sub: "someone", email: "someone@hospital.test" }), false);
    expect(await listMyTenants({ userId: user.id, email: user.email })).toEqual([]);
  });

  it("audits sign-ins in the global chain and the link in the tenant's chain", async () => {
    const global = await withSystem((tx) => tx.select().from(auditEntries).where(eq(auditEntries.chain, "global")));
    expect(global.filter((g) => g.action === "auth.sign_in")).toHaveLength(4);
    const linked = await withSystem((tx) => tx.select().from(auditEntries).where(eq(auditEntries.action, "membership.link")));
    expect(linked).toEqual([]); // tenant chains are invisible without the tenant set, even to system tasks
  });
});

describe("who is an engineer", () => {
  const env = { AUTH_ENGINEER_GROUP: "vendor-engineers", AUTH_BOOTSTRAP_ENGINEERS: ["first.engineer@vendor.test"] };
  it("the IdP's engineer group, or a bootstrap e-mail the IdP has verified; nothing else", () => {
    expect(isEngineerClaims({ ...claims(), groups: ["vendor-engineers"] }, env)).toBe(true);
    expect(isEngineerClaims({ ...claims(), groups: ["radiology"] }, env)).toBe(false);
    expect(isEngineerClaims(claims({ email: "First.Engineer@vendor.test" }), env)).toBe(true);
    expect(isEngineerClaims(claims({ email: "first.engineer@vendor.test", email_verified: false }), env)).toBe(false);
    expect(isEngineerClaims(claims({ email: "someone@vendor.test" }), env)).toBe(false);
  });
});
