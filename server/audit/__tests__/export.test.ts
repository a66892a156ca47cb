// Checkpoints, exports and the console's Verify against a real database: what an auditor gets verifies offline,
// an edit made around the application (a superuser switching the append-only trigger off) is found and located,
// and each tenant reads only its own chain.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useConsoleDatabase } from "../../../test/console-db";
import { systemContext, type TenantContext } from "../../context";
import { closeDb, withTenant } from "../../db";
import { createTenant } from "../../tenancy/service";
import { appendAudit } from "../append";
import { auditSigner, checkpointAllChains, checkpointTenantChain } from "../checkpoints";
import { exportCsv, exportJsonLines, verifyChain } from "../export";
import { AuditFilter, getAuditEntry, globalChain, listAuditEntries, tenantChain } from "../queries";
import { verifyLines } from "../verifier";

const ROOT = path.resolve(import.meta.dirname, "../../..");

async function collect(gen: AsyncGenerator<string>) {
  let s = "";
  for await (const chunk of gen) s += chunk;
  return s;
}

describe("audit export, checkpoints and verification", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let superuser: postgres.Sql;
  let a: TenantContext;
  let b: TenantContext;

  const ctxFor = (t: { id: string; slug: string; name: string }, email: string): TenantContext => ({
    tenantId: t.id,
    tenantSlug: t.slug,
    tenantName: t.name,
    roles: ["tenant_admin"],
    actor: { userId: "11111111-1111-1111-1111-111111111111", name: email, email, roles: ["tenant_admin"] },
    requestId: "req-test",
  });

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    const su = new URL(dbs.adminUrl);
    su.pathname = new URL(dbs.consoleOwnerUrl).pathname;
    superuser = postgres(su.toString(), { max: 1, onnotice: () => {} });
    a = ctxFor(await createTenant({ slug: "north", name: "North" }), "admin@north.test");
    b = ctxFor(await createTenant({ slug: "south", name: "South" }), "admin@south.test");
    for (let i = 0; i < 120; i++) {
      const ctx = i % 2 ? a : b;
      await withTenant(ctx, (tx) =>
        appendAudit(
          tx,
          { tenantId: ctx.tenantId, actor: ctx.actor, requestId: `r${i}` },
          { action: i % 3 ? "retention.update" : "ae-titles.add", target: `tenant:${ctx.tenantSlug}`, reason: i % 5 ? null : "=HYPERLINK(\"x\")", before: { ttlDays: i }, after: { ttlDays: i + 1 } },
        ),
      );
    }
  });
  afterAll(async () => {
    await superuser?.end();
    await closeDb();
    await dbs?.drop();
  });

  it("signs every chain's head, exports it whole, and the export verifies offline against the console's key", async () => {
    expect(await checkpointAllChains()).toBeGreaterThanOrEqual(2);
    expect(await checkpointAllChains()).toBe(0); // heads have not moved: nothing new to sign
    await checkpointTenantChain(a); // on demand: audited, and the checkpoint covers that entry
    const text = await collect(exportJsonLines(tenantChain(a), {}));
    const report = verifyLines(text.trimEnd().split("\n"), { trustedKeys: [auditSigner().publicKey] });
    expect(report).toMatchObject({ ok: true, complete: true, entries: 62, checkpoints: 2, firstSeq: 1, lastSeq: 62 });
    expect(text).toContain('"action":"audit.checkpoint"');
    expect((await verifyChain(tenantChain(a))).ok).toBe(true);
  });

  it("the published command verifies an export file, and points at the line of a forged one", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "audit-export-"));
    const good = path.join(dir, "north.jsonl");
    const text = await collect(exportJsonLines(tenantChain(a), {}));
    writeFileSync(good, text);
    const lines = text.trimEnd().split("\n");
    const i = lines.findIndex((l) => l.includes('"seq":30,'));
    lines[i] = lines[i]!.replace('"reason":null', '"reason":"forged"');
    const bad = path.join(dir, "forged.jsonl");
    writeFileSync(bad, lines.join("\n"));
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/audit-verify.ts"), ...args], { cwd: ROOT, encoding: "utf8" });
    const ok = run(good, "--public-key", auditSigner().publicKey);
    expect(ok.stdout).toMatch(/VERIFIED/);
    expect(ok.status).toBe(0);
    const broken = run(bad, "--public-key", auditSigner().publicKey);
    expect(broken.stdout).toMatch(new RegExp(`BROKEN at line ${i + 1} \\(seq 30\\)`));
    expect(broken.status).toBe(1);
    expect(run(path.join(dir, "missing.jsonl")).status).toBe(2);
  });

  it("a filtered export still verifies entry by entry, and says it is not the whole chain", async () => {
    const filter = AuditFilter.parse({ action: "ae-titles.add" });
    const text = await collect(exportJsonLines(tenantChain(b), filter));
    const report = verifyLines(text.trimEnd().split("\n"), { trustedKeys: [auditSigner().publicKey] });
    expect(report.ok).toBe(true);
    expect(report.complete).toBe(false);
    expect(report.entries).toBe(20);
  });

  it("finds and locates an entry a superuser edited with the append-only trigger switched off", async () => {
    await superuser.begin(async (tx) => {
      await tx`alter table audit_entries disable trigger audit_entries_no_update_delete`;
      await tx`update audit_entries set after = '{"ttlDays": 30}' where chain = ${b.tenantId} and seq = 7`;
      await tx`alter table audit_entries enable trigger audit_entries_no_update_delete`;
    });
    const report = await verifyChain(tenantChain(b));
    expect(report.ok).toBe(false);
    expect(report.firstProblem).toMatchObject({ seq: 7 });
    expect(report.firstProblem!.problem).toMatch(/edited/);
    expect((await verifyChain(tenantChain(a))).ok).toBe(true); // the other tenant's chain is untouched
  });

  it("exports CSV with hashes and checkpoints, and no cell a spreadsheet would run as a formula", async () => {
    const csv = await collect(exportCsv(tenantChain(a), {}));
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]).toMatch(/^record,chain,seq,at,/);
    expect(lines.filter((l) => l.startsWith("checkpoint,")).length).toBe(2);
    expect(lines.filter((l) => l.startsWith("entry,")).length).toBe(62);
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
  });

  it("pages newest first with a keyset cursor, and filters", async () => {
    const first = await listAuditEntries(tenantChain(a), {});
    expect(first.entries.length).toBe(50);
    expect(first.entries[0]!.seq).toBe(62);
    const second = await listAuditEntries(tenantChain(a), {}, first.nextBefore!);
    expect(second.entries.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => 12 - i));
    expect(second.nextBefore).toBeNull();
    const filtered = await listAuditEntries(tenantChain(a), AuditFilter.parse({ actor: "ADMIN@north.test", action: "retention.update" }));
    expect(filtered.entries.every((e) => e.action === "retention.update")).toBe(true);
    expect(filtered.entries.length).toBe(40);
    const none = await listAuditEntries(tenantChain(a), AuditFilter.parse({ from: "2999-01-01T00:00" }));
    expect(none.entries).toEqual([]);
    expect(AuditFilter.safeParse({ from: "yesterday-ish" }).error?.issues[0]?.message).toMatch(/not a date and time/);
  });

  it("a tenant reads only its own chain; the global chain is not visible in a tenant's scope", async () => {
    // B's chain asked for in A's database scope: row-level security returns nothing.
    const crossed = { ...tenantChain(b), ctx: a };
    expect((await listAuditEntries(crossed, {})).entries).toEqual([]);
    expect(await getAuditEntry(crossed, 1)).toBeNull();
    await withTenant(systemContext(a.tenantId), (tx) =>
      appendAudit(tx, { tenantId: null, actor: a.actor }, { action: "auth.sign_in", target: "user:x" }),
    );
    const inTenantScope = await withTenant(a, (tx) => tx.execute(`select count(*)::int as n from audit_entries where chain = 'global'`));
    expect(inTenantScope[0]).toMatchObject({ n: 0 });
    expect((await listAuditEntries(globalChain, {})).entries.map((e) => e.action)).toContain("auth.sign_in");
  });
});
