// Kept reports against a real database (another tenant sees none), and the PDF printed by real chromium from the
// report document: its first page, rasterised with pdftoppm, is not blank.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationReports } from "@/db/schema";
import { reportContent, reportHtml } from "@/lib/migrations/report";
import { useConsoleDatabase } from "../../../test/console-db";
import { systemContext } from "../../context";
import { closeDb, withTenant } from "../../db";
import { createTenant } from "../../tenancy/service";
import { getReport, listReports, renderPdf } from "../reports";

const MIGRATION = "00000000-0000-4000-8000-000000000003";
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 2, 10, 12);

const dashboard = {
  migration: {
    id: MIGRATION,
    tenantSlug: "north",
    status: "running" as const,
    lastError: null,
    createdAt: new Date(NOW - 48 * HOUR).toISOString(),
    counts: { discovered: 100, pending: 60, inFlight: 0, migrated: 38, quarantined: 2, skipped: 0 },
    plan: {
      name: "Legacy PACS",
      sources: [{ kind: "filesystem" as const, id: "legacy", path: "/x" }],
      target: { kind: "stow-rs" as const, url: "http://t" },
      filters: { studyDateFrom: "2020-01-01", studyDateTo: "2021-01-01", modalities: [] },
      priority: 50,
      concurrency: 2,
      bandwidth: {},
      transforms: [],
    },
  },
  asOf: new Date(NOW).toISOString(),
  windowOpenNow: true,
  hourlyFrom: new Date(NOW - 35 * 24 * HOUR).toISOString(),
  hourly: Array.from({ length: 20 }, (_, i) => ({ bucket: new Date(NOW - (20 - i) * HOUR).toISOString(), source: "legacy", migrated: 2, quarantined: 0, bytes: 2e6 })),
  daily: [],
  quarantine: [{ bucket: new Date(NOW - 5 * HOUR).toISOString(), category: "hash_mismatch", entered: 2, left: 0 }],
  breakdown: [],
  events: [{ id: 1, type: "migration.started", createdAt: new Date(NOW - 21 * HOUR).toISOString(), payload: {} }],
};

describe("migration reports", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let north: { id: string };
  let south: { id: string };

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    north = await createTenant({ slug: "north", name: "North" });
    south = await createTenant({ slug: "south", name: "South" });
  });
  afterAll(async () => {
    await closeDb();
    await dbs?.drop();
  });

  it("prints the report document to a PDF whose first page is not blank", async () => {
    const content = reportContent(dashboard, NOW, NOW - 7 * 24 * HOUR);
    const pdf = await renderPdf(reportHtml(content).document);
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    const dir = mkdtempSync(path.join(os.tmpdir(), "report-test-"));
    writeFileSync(path.join(dir, "r.pdf"), pdf);
    execFileSync("pdftoppm", ["-f", "1", "-l", "1", "-r", "40", "-gray", "-singlefile", path.join(dir, "r.pdf"), path.join(dir, "p")]);
    const pgm = readFileSync(path.join(dir, "p.pgm"));
    expect([...pgm.subarray(20)].filter((v) => v < 128).length).toBeGreaterThan(500);

    await withTenant(systemContext(north.id), (tx) =>
      tx.insert(migrationReports).values({ tenantId: north.id, migrationId: MIGRATION, kind: "scheduled", periodStart: new Date(NOW - 7 * 24 * HOUR), periodEnd: new Date(NOW), content, pdf, requestedBy: "console-worker" }),
    );
  }, 60_000);

  it("a tenant sees its reports; another tenant sees none and cannot open one by id", async () => {
    const mine = await listReports(systemContext(north.id), MIGRATION);
    expect(mine).toHaveLength(1);
    expect((await getReport(systemContext(north.id), MIGRATION, mine[0]!.id)).pdf?.length).toBeGreaterThan(1000);
    expect(await listReports(systemContext(south.id), MIGRATION)).toEqual([]);
    await expect(getReport(systemContext(south.id), MIGRATION, mine[0]!.id)).rejects.toThrow(/No such report/);
  });
});
