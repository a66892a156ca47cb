// Planning a migration from the console against a real engine, two Orthancs and the console database: the form's
// draft is read into a plan with messages keyed like its fields, a save is audited with the plan's hash, connection
// tests say what is wrong, and another tenant's migration lead cannot reach the migration.
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEntries, memberships, users } from "@/db/schema";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { useConsoleDatabase } from "../../../test/console-db";
import { freePort } from "../../../scripts/lib/ports";
import { can } from "../../auth/permissions";
import type { TenantContext } from "../../context";
import { closeDb, db, withTenant } from "../../db";
import { createTenant } from "../../tenancy/service";
import { createPlan, discover, inventory, planFromDraft, planHash, start, testConnections } from "../plans";

const TOKEN = "p".repeat(40);

const draft = (over: Record<string, unknown> = {}) => ({
  name: "Legacy to new",
  sources: [{ kind: "dicom", id: "legacy", aeTitle: "LEGACY", host: "127.0.0.1", port: "104", callingAeTitle: "", retrieve: "c-get", findLimit: "0" }],
  target: { kind: "dicom", aeTitle: "NEWARCH", host: "127.0.0.1", port: "104", callingAeTitle: "", retrieve: "c-get" },
  filters: { studyDateFrom: "2020-01-01", studyDateTo: "2024-12-31", modalities: "" },
  windows: null,
  overallCap: "",
  perSourceCap: "",
  priority: "50",
  concurrency: "2",
  rules: [],
  anonymize: false,
  ...over,
});

describe("the plan form's draft", () => {
  it("reads text into a plan: numbers, MB/s as bytes, modalities, rules and the anonymization profile last", () => {
    const r = planFromDraft(
      draft({
        overallCap: "12.5",
        filters: { studyDateFrom: "2020-01-01", studyDateTo: "2024-12-31", modalities: "ct, MR" },
        rules: [{ op: "map", tag: "00080080", values: "OLD=NEW\nA = B", value: "", groups: "", creators: "", sources: "", modalities: "" }],
        anonymize: true,
      }),
    );
    expect(r.fields).toBeNull();
    expect(r.plan).toMatchObject({
      sources: [{ port: 104, callingAeTitle: "IMGOPS_MIGRATE" }],
      bandwidth: { overallBytesPerSecond: 12_500_000 },
      filters: { modalities: ["CT", "MR"] },
      transforms: [{ op: "map", tag: "00080080", values: { OLD: "NEW", A: "B" } }, { op: "anonymize", profile: "basic" }],
    });
  });

  it("names each wrong field by its form key, with the contract's message", () => {
    const r = planFromDraft(
      draft({
        sources: [{ kind: "dicom", id: "Legacy!", aeTitle: "THIS AE TITLE IS TOO LONG", host: "", port: "eleven", callingAeTitle: "", retrieve: "c-get", findLimit: "-1" }],
        target: { kind: "stow-rs", url: "not a url" },
        filters: { studyDateFrom: "2024-01-01", studyDateTo: "2020-01-01", modalities: "" },
        overallCap: "-3",
        concurrency: "40",
        rules: [{ op: "set", tag: "PatientName", value: "x", values: "", groups: "", creators: "", sources: "", modalities: "" }],
      }),
    );
    expect(r.plan).toBeNull();
    expect(Object.keys(r.fields!).sort()).toEqual(
      ["concurrency", "filters.studyDateTo", "overallCap", "rules.0.tag", "sources.0.aeTitle", "sources.0.findLimit", "sources.0.host", "sources.0.id", "sources.0.port", "target.url"].sort(),
    );
    expect(r.fields!["sources.0.port"]).toEqual(["the port is a whole number"]);
    expect(r.fields!["sources.0.aeTitle"]).toEqual(["an AE title has at most 16 characters"]);
    expect(r.fields!["rules.0.tag"]![0]).toContain("8 hex digits");
  });
});

describe("planning a migration against a real engine", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  let north: TenantContext;
  let south: TenantContext;

  const ctxOf = (t: { id: string; slug: string; name: string }, userId: string): TenantContext => ({
    tenantId: t.id,
    tenantSlug: t.slug,
    tenantName: t.name,
    roles: ["migration_operator"],
    actor: { userId, name: "Mia Lead", email: "lead@north.test", roles: [], grantId: undefined as unknown as string },
    requestId: randomUUID(),
  });
  const audits = (ctx: TenantContext) => withTenant(ctx, (tx) => tx.select().from(auditEntries).where(eq(auditEntries.tenantId, ctx.tenantId)));
  const live = () =>
    draft({
      sources: [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: String(source.port), callingAeTitle: "", retrieve: "c-get", findLimit: "0" }],
      target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: String(target.port), callingAeTitle: "", retrieve: "c-get" },
    });

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    const port = await freePort();
    process.env.ENGINE_ADMIN_URL = `http://127.0.0.1:${port}`;
    process.env.ENGINE_ADMIN_TOKEN = TOKEN;
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, adminPort: port });
    [source, target] = await Promise.all([startOrthanc({ aeTitle: "LEGACY" }), startOrthanc({ aeTitle: "NEWARCH" })]);
    const [u] = await db().insert(users).values({ issuer: "https://idp.test", subject: "mia", email: "lead@north.test", name: "Mia Lead" }).returning();
    north = ctxOf(await createTenant({ slug: "north", name: "North", members: [{ email: "lead@north.test", role: "migration_operator" }] }), u!.id);
    south = ctxOf(await createTenant({ slug: "south", name: "South" }), u!.id);
  }, 120_000);
  afterAll(async () => {
    await source?.stop();
    await target?.stop();
    await engine?.close();
    await closeDb();
    await dbs?.drop();
  });

  it("the role holds migrations.operate (as does a read-write grant), and a membership can carry it", async () => {
    expect(can(["migration_operator"], "migrations.operate")).toBe(true);
    expect(can(["engineer_read_write"], "migrations.operate")).toBe(true);
    expect(can(["tenant_admin"], "migrations.operate")).toBe(false);
    expect(can(["engineer_read_only"], "migrations.operate")).toBe(false);
    const rows = await withTenant(north, (tx) => tx.select().from(memberships).where(eq(memberships.tenantId, north.tenantId)));
    expect(rows.map((m) => m.role)).toEqual(["migration_operator"]);
  });

  it("a connection test of an unsaved endpoint: works, then a wrong port is refused by name", async () => {
    expect((await testConnections(north, live(), "sources.0")).ok).toBe(true);
    const closed = await freePort();
    const wrong = live();
    wrong.target = { ...(wrong.target as object), port: String(closed) } as typeof wrong.target;
    const r = await testConnections(north, wrong, "target");
    expect(r.ok).toBe(false);
    expect(r.checks[0]!.message).toContain(`Connection refused at 127.0.0.1:${closed}`);
    await expect(testConnections(north, draft({ target: { kind: "dicom", aeTitle: "X", host: "h", port: "x", callingAeTitle: "", retrieve: "c-get" } }), "target")).rejects.toMatchObject({
      fields: { "target.port": ["the port is a whole number"] },
    });
  });

  it("a save is audited with the plan's hash; a refused save (an unreachable source) writes nothing and names the source", async () => {
    const before = (await audits(north)).length;
    const bad = live();
    (bad.sources as { port: string }[])[0]!.port = String(await freePort());
    await expect(createPlan(north, bad)).rejects.toMatchObject({ fields: { "sources.0": [expect.stringContaining("C-ECHO failed")] } });
    expect((await audits(north)).length).toBe(before);
    const m = await createPlan(north, live());
    const entry = (await audits(north)).find((a) => a.action === "migrations.create")!;
    expect(entry.target).toBe(`migration:${m.id}`);
    expect((entry.after as { planSha256: string }).planSha256).toBe(planHash(m.plan));
    expect(planHash(m.plan)).not.toBe(planHash({ ...m.plan, priority: m.plan.priority + 1 }));
  });

  it("another tenant's migration lead cannot discover, start or read the inventory of the migration", async () => {
    const m = await createPlan(north, live());
    await expect(discover(south, m.id)).rejects.toMatchObject({ status: 404 });
    await expect(start(south, m.id)).rejects.toThrow(/No such migration/);
    expect(await inventory(south, m.id)).toBeNull();
    expect((await audits(south)).filter((a) => a.action.startsWith("migrations."))).toEqual([]);
  });
});
