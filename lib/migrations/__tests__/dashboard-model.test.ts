import { describe, expect, it } from "vitest";
import { breakdownBy, forecastFor, mergeDashboard, quarantineDepth, workedHours, type Dashboard } from "../dashboard-model";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 8); // a Monday 08:00 UTC
const iso = (t: number) => new Date(t).toISOString();

function dashboard(over: Partial<Dashboard> = {}): Dashboard {
  return {
    migration: {
      id: "00000000-0000-4000-8000-000000000001",
      tenantSlug: "north",
      status: "running",
      lastError: null,
      createdAt: iso(T0),
      counts: { discovered: 100, pending: 60, inFlight: 0, migrated: 38, quarantined: 2, skipped: 0 },
      plan: {
        name: "m",
        sources: [{ kind: "filesystem", id: "a", path: "/x" }],
        target: { kind: "stow-rs", url: "http://t" },
        filters: { studyDateFrom: "2020-01-01", studyDateTo: "2021-01-01", modalities: [] },
        priority: 50,
        concurrency: 2,
        bandwidth: {},
        transforms: [],
        windows: { timeZone: "UTC", intervals: [{ days: ["mon"], start: "08:00", end: "12:00" }] },
      },
    },
    asOf: iso(T0 + 6 * HOUR),
    hourlyFrom: iso(T0 - 35 * 24 * HOUR),
    daily: [],
    windowOpenNow: false,
    hourly: [
      { bucket: iso(T0), source: "a", migrated: 10, quarantined: 1, bytes: 100 },
      { bucket: iso(T0 + 2 * HOUR), source: "a", migrated: 20, quarantined: 1, bytes: 200 },
    ],
    quarantine: [
      { bucket: iso(T0), category: "hash_mismatch", entered: 2, left: 0 },
      { bucket: iso(T0 + 3 * HOUR), category: "hash_mismatch", entered: 0, left: 1 },
    ],
    breakdown: [
      { source: "a", modality: "CT", studyYear: "2020", status: "migrated", studies: 38 },
      { source: "a", modality: "CT", studyYear: "2020", status: "pending", studies: 60 },
      { source: "a", modality: "CT", studyYear: "2020", status: "quarantined", studies: 2 },
    ],
    events: [{ id: 1, type: "migration.started", createdAt: iso(T0), payload: {} }],
    ...over,
  };
}

describe("dashboard model", () => {
  it("samples only the hours the migration worked inside its windows, stalls included as zero", () => {
    const h = workedHours(dashboard(), T0 + 6 * HOUR);
    // Windows 08–12 on Mondays: hours 08, 09, 10, 11 (09 and 11 finished nothing).
    expect(h.map((x) => [(x.at - T0) / HOUR, x.studies])).toEqual([[0, 11], [1, 0], [2, 21], [3, 0]]);
  });

  it("a pause ends the sampled hours; a resume starts them again", () => {
    const d = dashboard({
      events: [
        { id: 1, type: "migration.started", createdAt: iso(T0), payload: {} },
        { id: 2, type: "migration.paused", createdAt: iso(T0 + 1 * HOUR), payload: {} },
        { id: 3, type: "migration.resumed", createdAt: iso(T0 + 3 * HOUR), payload: {} },
      ],
    });
    expect(workedHours(d, T0 + 6 * HOUR).map((x) => (x.at - T0) / HOUR)).toEqual([0, 3]);
  });

  it("merges a since-poll: changed buckets replace theirs, new events are appended once", () => {
    const held = dashboard();
    const poll = dashboard({
      hourly: [{ bucket: iso(T0 + 2 * HOUR), source: "a", migrated: 25, quarantined: 1, bytes: 250 }],
      quarantine: [],
      events: [{ id: 1, type: "migration.started", createdAt: iso(T0), payload: {} }, { id: 2, type: "migration.paused", createdAt: iso(T0 + 4 * HOUR), payload: {} }],
    });
    const merged = mergeDashboard(held, poll);
    expect(merged.hourly.map((h) => h.migrated)).toEqual([10, 25]);
    expect(merged.quarantine).toHaveLength(2);
    expect(merged.events.map((e) => e.id)).toEqual([1, 2]);
  });

  it("quarantine depth accumulates entries minus exits; breakdowns split done and remaining", () => {
    expect(quarantineDepth(dashboard()).rows.map((r) => r.hash_mismatch)).toEqual([2, 1]);
    expect(breakdownBy(dashboard(), "studyYear")).toEqual([{ name: "2020", done: 40, remaining: 60 }]);
  });

  it("what-if: a cap at half the observed bytes per hour doubles the time to finish; more window hours shorten it", () => {
    // Always open, 20 studies an hour at 1 MB each, 200 studies left: ten hours.
    const hourly = Array.from({ length: 24 }, (_, i) => ({ bucket: iso(T0 - (24 - i) * HOUR), source: "a", migrated: 20, quarantined: 0, bytes: 20e6 }));
    const d = dashboard({
      hourly,
      events: [{ id: 1, type: "migration.started", createdAt: iso(T0 - 24 * HOUR), payload: {} }],
      migration: { ...dashboard().migration, counts: { discovered: 680, pending: 200, inFlight: 0, migrated: 480, quarantined: 0, skipped: 0 }, plan: { ...dashboard().migration.plan, windows: undefined } },
    });
    const hours = (t: number | null) => (t! - T0) / HOUR;
    const now = forecastFor(d, T0).finish.p50;
    const halfCap = forecastFor(d, T0, { whatIf: { capBytesPerSecond: 10e6 / 3600 } }).finish.p50;
    expect(hours(now)).toBeCloseTo(11, 0); // from the next full hour
    expect(hours(halfCap)).toBeCloseTo(21, 0);
    // Mondays 08–12 only: 200 studies need ten window hours, i.e. three Mondays.
    const mondays = forecastFor(d, T0, { whatIf: { windows: { timeZone: "UTC", intervals: [{ days: ["mon"], start: "08:00", end: "12:00" }] } } }).finish.p50;
    expect(new Date(mondays!).getUTCDay()).toBe(1);
    expect(hours(mondays)).toBeGreaterThan(14 * 24);
  });
});
