import "server-only";
import { execSync } from "node:child_process";
import { and, desc, eq } from "drizzle-orm";
import { z } from "zod";
import { migrationReports, tenants } from "@/db/schema";
import { reportContent, reportHtml } from "@/lib/migrations/report";
import { appendAudit } from "../audit/append";
import { systemContext, type Actor } from "../context";
import { withSystem, withTenant } from "../db";
import { engineClientFromEnv, type EngineClient } from "../engine/client";
import { NotFoundError } from "../errors";
import { recordDeliveries } from "../webhooks/service";

const WEEK = 7 * 86_400_000;
const MigrationId = z.uuid("not a migration id");

/** Debian's chromium, driven by playwright-core, prints the report's HTML to PDF. */
export async function renderPdf(html: string) {
  const { chromium } = await import("playwright-core");
  const executablePath = process.env.CHROMIUM_PATH ?? execSync("command -v chromium || command -v chromium-browser", { shell: "/bin/sh" }).toString().trim();
  const browser = await chromium.launch({ executablePath, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  try {
    const page = await browser.newPage();
    await page.setContent(html, { waitUntil: "load" });
    return await page.pdf({ format: "A4", printBackground: true, margin: { top: "12mm", bottom: "12mm", left: "10mm", right: "10mm" } });
  } finally {
    await browser.close();
  }
}

type Scope = { tenantId: string; tenantSlug: string; actor: Actor; requestId?: string };

/** Computes the report from the engine's figures now, renders its PDF, keeps both, announces it (webhook). */
export async function generateReport(scope: Scope, migrationId: string, kind: "scheduled" | "on_demand", engine: EngineClient = engineClientFromEnv(), now = Date.now()) {
  const id = MigrationId.parse(migrationId);
  const d = await engine.migrationDashboard(scope.tenantSlug, id);
  if (!d) throw new NotFoundError("No such migration in this tenant.");
  let closeout = null;
  if (d.migration.status === "completed") {
    const reconciliation = await engine.lastReconciliation(scope.tenantSlug, id);
    const verification = JSON.parse((await engine.migrationVerification(scope.tenantSlug, id, "json")) ?? '{"instances":[]}') as { instances: unknown[] };
    closeout = { reconciliation: reconciliation && { reconciledAt: reconciliation.reconciledAt, balanced: reconciliation.balanced, differences: reconciliation.differences.map((d) => ({ message: d.message })) }, verifiedInstances: verification.instances.length };
  }
  const content = reportContent(d, now, now - WEEK, closeout);
  const pdf = await renderPdf(reportHtml(content).document);
  return withTenant(scope, async (tx) => {
    const [row] = await tx
      .insert(migrationReports)
      .values({ tenantId: scope.tenantId, migrationId: id, kind, periodStart: new Date(now - WEEK), periodEnd: new Date(now), content, pdf, requestedBy: scope.actor.name })
      .returning({ id: migrationReports.id, createdAt: migrationReports.createdAt });
    await appendAudit(tx, { tenantId: scope.tenantId, actor: scope.actor, requestId: scope.requestId }, { action: "migrations.report", target: `migration:${id}`, after: { reportId: row!.id, kind } });
    await recordDeliveries(tx, scope.tenantId, "report.ready", { event: "migration.report_ready", migrationId: id, name: d.migration.plan.name, reportId: row!.id, tenant: scope.tenantSlug });
    return row!;
  });
}

/** The weekly run (pg-boss schedule): a report for every migration that is running, paused or finished. */
export async function generateScheduledReports(engine: EngineClient, log: (m: string) => void) {
  const all = await withSystem((tx) => tx.select({ id: tenants.id, slug: tenants.slug }).from(tenants));
  for (const t of all) {
    const migrations = await engine.listMigrations(t.slug).catch(() => []);
    for (const m of migrations.filter((x) => ["running", "paused", "completed"].includes(x.status))) {
      await generateReport({ ...systemContext(t.id), tenantSlug: t.slug }, m.id, "scheduled", engine).then(
        (r) => log(`weekly report ${r.id} for migration ${m.id} (${t.slug})`),
        (e) => log(`weekly report for migration ${m.id} failed: ${e instanceof Error ? e.message : e}`),
      );
    }
  }
}

export async function listReports(ctx: { tenantId: string; actor: Actor }, migrationId: string) {
  return withTenant(ctx, (tx) =>
    tx
      .select({ id: migrationReports.id, kind: migrationReports.kind, createdAt: migrationReports.createdAt, requestedBy: migrationReports.requestedBy, periodStart: migrationReports.periodStart, periodEnd: migrationReports.periodEnd })
      .from(migrationReports)
      .where(eq(migrationReports.migrationId, MigrationId.parse(migrationId)))
      .orderBy(desc(migrationReports.createdAt)),
  );
}

export async function getReport(ctx: { tenantId: string; actor: Actor }, migrationId: string, reportId: string) {
  const [row] = await withTenant(ctx, (tx) =>
    tx
      .select()
      .from(migrationReports)
      .where(and(eq(migrationReports.id, z.uuid().parse(reportId)), eq(migrationReports.migrationId, MigrationId.parse(migrationId)))),
  );
  if (!row) throw new NotFoundError("No such report.");
  return row;
}
