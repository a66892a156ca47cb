// What a migration announces (milestones and anomalies), on synthetic dashboard figures whose answer is known.
import { describe, expect, it } from "vitest";
import type { Dashboard } from "@/lib/migrations/dashboard-model";
import { reportContent, reportHtml } from "@/lib/migrations/report";
import { noticesFor } from "../notices";

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 2, 10, 12, 30);
const iso = (t: number) => new Date(t).toISOString();
const hourAt = (k: number) => Math.floor(NOW / HOUR) * HOUR - k * HOUR;

function dashboard(perHour: (k: number) => number, counts: Partial<Dashboard["migration"]["counts"]> = {}, over: Partial<Dashboard> = {}): Dashboard {
  const hourly = Array.from({ length: 30 }, (_, i) => 30 - i).map((k) => ({ bucket: iso(hourAt(k)), source: "legacy", migrated: perHour(k), quarantined: 0, bytes: perHour(k) * 1e6 }));
  return {
    migration: {
      id: "00000000-0000-4000-8000-000000000002",
      tenantSlug: "north",
      status: "running",
      lastError: null,
      createdAt: iso(NOW - 40 * HOUR),
      counts: { discovered: 1000, pending: 500, inFlight: 0, migrated: 500, quarantined: 0, skipped: 0, ...counts },
      plan: {
        name: "Legacy",
        sources: [{ kind: "filesystem", id: "legacy", path: "/x" }],
        target: { kind: "stow-rs", url: "http://t" },
        filters: { studyDateFrom: "2020-01-01", studyDateTo: "2021-01-01", modalities: [] },
        priority: 50,
        concurrency: 2,
        bandwidth: {},
        transforms: [],
      },
    },
    asOf: iso(NOW),
    windowOpenNow: true,
    hourlyFrom: iso(NOW - 35 * 24 * HOUR),
    hourly: hourly.filter((h) => h.migrated > 0),
    daily: [],
    quarantine: [],
    breakdown: [],
    events: [{ id: 1, type: "migration.started", createdAt: iso(hourAt(31)), payload: {} }],
    ...over,
  };
}

describe("migration notices", () => {
  it("milestones passed, and 100 % only once the migration has completed", () => {
    const keys = (d: Dashboard) => noticesFor(d, NOW).filter((n) => n.kind === "milestone").map((n) => n.key);
    expect(keys(dashboard(() => 20, { pending: 260, migrated: 740 }))).toEqual(["milestone:25", "milestone:50"]);
    expect(keys(dashboard(() => 20, { pending: 0, migrated: 1000 }))).toEqual(["milestone:25", "milestone:50", "milestone:75"]);
    const done = dashboard(() => 20, { pending: 0, migrated: 1000 });
    done.migration.status = "completed";
    expect(keys(done)).toContain("milestone:100");
  });

  it("throughput below half its recent median for the last hour is an anomaly; a steady rate is not", () => {
    expect(noticesFor(dashboard(() => 20), NOW).filter((n) => n.kind === "anomaly")).toEqual([]);
    const slow = noticesFor(dashboard((k) => (k === 1 ? 6 : 20)), NOW).filter((n) => n.kind === "anomaly");
    expect(slow.map((n) => n.payload.anomaly)).toEqual(["throughput_low"]);
    expect(slow[0]!.payload).toMatchObject({ studies: 6, recentMedian: 20 });
  });

  it("a quarantine spike, and a running migration that finished nothing for hours inside its window", () => {
    const quarantine = [...Array.from({ length: 10 }, (_, i) => ({ bucket: iso(hourAt(12 - i)), category: "hash_mismatch", entered: 1, left: 0 })), { bucket: iso(hourAt(1)), category: "hash_mismatch", entered: 9, left: 0 }];
    expect(noticesFor(dashboard(() => 20, {}, { quarantine }), NOW).map((n) => n.payload.anomaly)).toContain("quarantine_spike");
    const stalled = noticesFor(dashboard((k) => (k > 3 ? 20 : 0)), NOW).map((n) => n.payload.anomaly);
    expect(stalled).toContain("stalled");
  });

  it("the report document carries the progress, the forecast, the burn-down chart and the quarantine summary", () => {
    const d = dashboard(() => 20, {}, { quarantine: [{ bucket: iso(hourAt(3)), category: "hash_mismatch", entered: 2, left: 0 }] });
    const html = reportHtml(reportContent(d, NOW, NOW - 7 * 24 * HOUR)).document;
    expect(html).toContain("50 %");
    expect(html).toMatch(/P50 <b>\d{4}-\d\d-\d\d/);
    expect(html).toContain("<svg");
    expect(html).toContain("hash mismatch");
  });
});
