// Plan versions approved by an e-signature, against a real engine and the console database: the author cannot
// approve their own version under the two-person policy, a stale sign-in or a plan changed since it was read is
// refused with nothing recorded, an approval is a signature row, an audit entry and the engine's version in force
// together, the record is append-only and bound to its version, and another tenant can neither read nor approve.
import { mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEntries, migrationPlanSignatures, users } from "@/db/schema";
import { createEngineClient } from "../../engine/client";
import { startTestEngine } from "../../../test/engine";
import { useConsoleDatabase } from "../../../test/console-db";
import type { AccessRole } from "../../auth/permissions";
import { verifyRecord } from "../../auth/signature-binding";
import type { TenantContext } from "../../context";
import { closeDb, db, withTenant } from "../../db";
import { ForbiddenError, InputError, NotFoundError, StepUpRequiredError } from "../../errors";
import { createTenant } from "../../tenancy/service";
import { approveVersion, planVersions, setApprovalPolicy } from "../approval";

const TOKEN = "a".repeat(40);
const SECRET = "k".repeat(40);

describe("approving plan versions", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let client: ReturnType<typeof createEngineClient>;
  const importRoot = mkdtempSync(path.join(os.tmpdir(), "approval-imports-"));
  const exportRoot = mkdtempSync(path.join(os.tmpdir(), "approval-exports-"));
  const people: Record<string, { id: string; name: string; email: string; isEngineer: boolean; authTime: number }> = {};
  const tenants: Record<string, { id: string; slug: string; name: string }> = {};
  const fresh = (who: string) => ({ ...people[who]!, authTime: Math.floor(Date.now() / 1000) - 5 });
  const ctxOf = (slug: string, who: string, role: AccessRole, grant = false): TenantContext => ({
    tenantId: tenants[slug]!.id,
    tenantSlug: slug,
    tenantName: tenants[slug]!.name,
    roles: [role],
    actor: { userId: people[who]!.id, name: people[who]!.name, email: people[who]!.email, roles: [role], ...(grant ? { grantId: "g-1" } : {}) },
    requestId: "req",
    ...(grant ? { grant: { id: "g-1", scope: "read_write" as const, endsAt: new Date(Date.now() + 3_600_000).toISOString() } } : {}),
  });
  const plan = (name: string) => ({
    name,
    sources: [{ kind: "filesystem" as const, id: "disk", path: "scans" }],
    target: { kind: "filesystem" as const, path: "out" },
    filters: { studyDateFrom: "2020-01-01", studyDateTo: "2024-12-31", modalities: [] },
  });
  const authoredBy = async (slug: string, who: string) => (await client.createMigration(slug, plan(`${who}'s plan`), { userId: people[who]!.id, name: people[who]!.name })).id;
  const signatures = (ctx: TenantContext) => withTenant(ctx, (tx) => tx.select().from(migrationPlanSignatures));
  const approvals = (ctx: TenantContext) => withTenant(ctx, (tx) => tx.select().from(auditEntries).where(eq(auditEntries.action, "migrations.approve")));
  const input = async (slug: string, id: string, version = 1) => {
    const v = (await client.migrationVersions(slug, id))!.versions.find((x) => x.version === version)!;
    return { version: String(version), planSha256: v.planSha256, meaning: "I approve this plan version for execution" };
  };

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    for (const slug of ["north", "south"]) {
      mkdirSync(path.join(importRoot, slug, "scans"), { recursive: true });
      mkdirSync(path.join(exportRoot, slug, "out"), { recursive: true });
    }
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_IMPORT_ROOT: importRoot, ENGINE_EXPORT_ROOT: exportRoot } });
    client = createEngineClient({ url: engine.url, token: TOKEN });
    Object.assign(process.env, {
      ENGINE_ADMIN_URL: engine.url,
      ENGINE_ADMIN_TOKEN: TOKEN,
      AUTH_SECRET: SECRET,
      AUTH_URL: "http://localhost:3000",
      AUTH_OIDC_ISSUER: "http://localhost:4000",
      AUTH_OIDC_CLIENT_ID: "console",
      AUTH_OIDC_CLIENT_SECRET: "secret",
      AUTH_STEP_UP_MAX_AGE_SECONDS: "300",
    });
    tenants.north = await createTenant({ slug: "north", name: "North" });
    tenants.south = await createTenant({ slug: "south", name: "South" });
    for (const [key, name] of [["mia", "Mia Lead"], ["noah", "Noah Second"], ["nora", "Nora Admin"], ["evan", "Evan Engineer"], ["lena", "Lena South"]]) {
      const [u] = await db().insert(users).values({ issuer: "https://idp.test", subject: key!, email: `${key}@test`, name: name! }).returning();
      people[key!] = { id: u!.id, name: name!, email: `${key}@test`, isEngineer: key === "evan", authTime: Math.floor(Date.now() / 1000) - 3600 };
    }
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await closeDb();
    await dbs?.drop();
  });

  it("the author cannot approve their own version; a second person's approval puts it in force, signed and audited", async () => {
    const mia = ctxOf("north", "mia", "migration_operator");
    const noah = ctxOf("north", "noah", "migration_operator");
    const id = await authoredBy("north", "mia");
    await expect(client.discoverMigration("north", id)).rejects.toMatchObject({ status: 409 });
    await expect(approveVersion(mia, fresh("mia"), id, await input("north", id))).rejects.toThrow(ForbiddenError);
    await expect(approveVersion(mia, fresh("mia"), id, await input("north", id))).rejects.toThrow(/You wrote version 1/);
    // A stale sign-in is sent to re-authenticate; nothing is recorded.
    await expect(approveVersion(noah, people.noah!, id, await input("north", id))).rejects.toThrow(StepUpRequiredError);
    expect(await signatures(noah)).toEqual([]);
    expect(await approvals(noah)).toEqual([]);

    const r = await approveVersion(noah, fresh("noah"), id, await input("north", id));
    expect(r.version).toBe(1);
    const m = (await client.getMigration("north", id))!;
    expect(m.versionInForce).toBe(1);
    const [sig] = await signatures(noah);
    expect(sig).toMatchObject({ migrationId: id, version: 1, signerName: "Noah Second", meaning: "I approve this plan version for execution" });
    const [entry] = await approvals(noah);
    expect(entry!.after).toMatchObject({ version: 1, planSha256: sig!.planSha256, author: { userId: people.mia!.id }, requireSecondPerson: true, signature: { id: sig!.id } });
    const listed = await planVersions(noah, id);
    expect(listed.versions[0]).toMatchObject({ version: 1, state: "in_force", approval: { signatureId: sig!.id }, signature: { verified: true } });
    // Approved is final: again is refused, by the console before the engine.
    await expect(approveVersion(noah, fresh("noah"), id, await input("north", id))).rejects.toThrow(/already approved/);
    // The record is append-only and bound to its version: moved to another version it no longer verifies.
    const refused = await withTenant(noah, (tx) => tx.update(migrationPlanSignatures).set({ version: 2 }).where(eq(migrationPlanSignatures.id, sig!.id))).then(() => null, (e: Error & { cause?: Error }) => e.cause?.message ?? e.message);
    expect(refused).toMatch(/append-only/);
    const bound = [tenants.north!.id, id, 1, sig!.planSha256, sig!.meaning, sig!.signerUserId, sig!.signerName, sig!.signedAt.toISOString(), sig!.authTime.toISOString()];
    expect(verifyRecord("migration-plan-approval/v1", bound, sig!.binding, SECRET)).toBe(true);
    expect(verifyRecord("migration-plan-approval/v1", [...bound.slice(0, 2), 2, ...bound.slice(3)], sig!.binding, SECRET)).toBe(false);
  });

  it("a version saved after the approver read the plan is refused, and the older one is superseded; the diff names the change", async () => {
    const noah = ctxOf("north", "noah", "migration_operator");
    const id = await authoredBy("north", "mia");
    const read = await input("north", id);
    await client.updateMigrationPlan("north", id, { plan: { ...plan("mia's plan"), priority: 80 }, changedBy: { userId: people.mia!.id, name: "Mia Lead" } });
    await expect(approveVersion(noah, fresh("noah"), id, { ...read, version: "2" })).rejects.toThrow(/not the plan you read/);
    await expect(approveVersion(noah, fresh("noah"), id, read)).rejects.toThrow(/superseded/);
    const { versions } = await planVersions(noah, id);
    expect(versions.map((v) => [v.version, v.state])).toEqual([[2, "pending"], [1, "superseded"]]);
    await approveVersion(noah, fresh("noah"), id, await input("north", id, 2));
    expect((await client.getMigration("north", id))!.versionInForce).toBe(2);
  });

  it("under a policy without the second person the author may approve; only the tenant admin sets it, never under a grant", async () => {
    const nora = ctxOf("north", "nora", "tenant_admin");
    await expect(setApprovalPolicy(ctxOf("north", "evan", "engineer_read_write", true), false)).rejects.toThrow(ForbiddenError);
    await expect(setApprovalPolicy(ctxOf("north", "mia", "migration_operator"), false)).rejects.toThrow(ForbiddenError);
    await setApprovalPolicy(nora, false);
    const policyEntries = await withTenant(nora, (tx) => tx.select().from(auditEntries).where(eq(auditEntries.action, "migrations.approval-policy")));
    expect(policyEntries.map((e) => [e.before, e.after])).toEqual([[{ requireSecondPerson: true }, { requireSecondPerson: false }]]);
    const id = await authoredBy("north", "mia");
    await approveVersion(ctxOf("north", "mia", "migration_operator"), fresh("mia"), id, await input("north", id));
    expect((await client.getMigration("north", id))!.versionInForce).toBe(1);
    await setApprovalPolicy(nora, true);
    // An engineer under a read-write grant operates migrations but never approves them.
    const other = await authoredBy("north", "mia");
    await expect(approveVersion(ctxOf("north", "evan", "engineer_read_write", true), fresh("evan"), other, await input("north", other))).rejects.toThrow(ForbiddenError);
    expect((await client.getMigration("north", other))!.versionInForce).toBeNull();
  });

  it("another tenant cannot read or approve the versions, and sees none of the signatures", async () => {
    const lena = ctxOf("south", "lena", "migration_operator");
    const id = await authoredBy("north", "mia");
    await expect(planVersions(lena, id)).rejects.toThrow(NotFoundError);
    await expect(approveVersion(lena, fresh("lena"), id, await input("north", id))).rejects.toThrow(NotFoundError);
    expect((await client.getMigration("north", id))!.versionInForce).toBeNull();
    expect(await signatures(lena)).toEqual([]);
    // Row-level security, not only the query: south's context sees no north signature even when asking for all rows.
    const count = await withTenant(lena, (tx) => tx.execute(sql`select count(*)::int as n from migration_plan_signatures`));
    expect((count as unknown as { n: number }[])[0]!.n).toBe(0);
    expect(await signatures(ctxOf("north", "noah", "migration_operator"))).not.toEqual([]);
  });

  it("a version number or hash that is not one is bad input", async () => {
    const id = await authoredBy("north", "mia");
    await expect(approveVersion(ctxOf("north", "noah", "migration_operator"), fresh("noah"), id, { version: "x", planSha256: "zz", meaning: "" })).rejects.toThrow();
    await expect(approveVersion(ctxOf("north", "noah", "migration_operator"), fresh("noah"), id, { ...(await input("north", id)), version: "7" })).rejects.toThrow(InputError);
  });
});
