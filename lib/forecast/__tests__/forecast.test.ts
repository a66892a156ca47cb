// The forecast on synthetic histories whose true finish is known: the same process that made the history is run
// forward with another seed. Tolerances are stated per case; band coverage is measured over many seeds.
import { describe, expect, it } from "vitest";
import { backtest, forecastFinish, hourOpen, mulberry32, type HourSample, type WeeklyWindows } from "../index";

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 5, 1, 12, 30); // a Monday, mid-hour
const BYTES_PER_STUDY = 50e6;

/** Hourly rates uniform in [0.5, 1.5] × mean, over the open hours before `now` (newest last). */
function history(opts: { seed: number; hours: number; mean: (at: number) => number; isOpen?: (at: number) => boolean; cap?: number }): HourSample[] {
  const random = mulberry32(opts.seed);
  const out: HourSample[] = [];
  const first = Math.floor(NOW / HOUR) * HOUR - opts.hours * HOUR;
  for (let at = first; at < Math.floor(NOW / HOUR) * HOUR; at += HOUR) {
    if (opts.isOpen && !opts.isOpen(at)) continue;
    const studies = opts.mean(at) * (0.5 + random());
    out.push({ at, studies, bytes: studies * BYTES_PER_STUDY, capBytesPerSecond: opts.cap ?? null });
  }
  return out;
}

/** The true finish: the generating process run forward from the next hour. */
function truth(opts: { seed: number; remaining: number; mean: number; isOpen?: (at: number) => boolean }) {
  const random = mulberry32(opts.seed);
  let left = opts.remaining;
  for (let at = Math.floor(NOW / HOUR) * HOUR + HOUR; ; at += HOUR) {
    if (opts.isOpen && !opts.isOpen(at)) continue;
    const rate = opts.mean * (0.5 + random());
    if (rate >= left) return at + (left / rate) * HOUR;
    left -= rate;
  }
}

const hoursFromNow = (t: number | null) => ((t ?? Infinity) - NOW) / HOUR;

describe("forecastFinish", () => {
  it("constant rate: P50 within 5 % of the true finish, P10–P90 covers it about 80 % of the time over 200 seeds", () => {
    let inBand = 0;
    let underP95 = 0;
    const errors: number[] = [];
    for (let seed = 1; seed <= 200; seed++) {
      const f = forecastFinish({ now: NOW, remainingStudies: 10_000, history: history({ seed, hours: 24 * 14, mean: () => 100 }), seed: seed * 7 });
      const t = truth({ seed: seed + 10_000, remaining: 10_000, mean: 100 });
      errors.push(Math.abs(f.finish.p50! - t) / (t - NOW));
      if (f.finish.p10! <= t && t <= f.finish.p90!) inBand++;
      if (t <= f.finish.p95!) underP95++;
    }
    errors.sort((a, b) => a - b);
    expect(errors[Math.floor(errors.length / 2)]).toBeLessThan(0.05); // median relative error of the P50
    expect(inBand / 200).toBeGreaterThan(0.7);
    expect(inBand / 200).toBeLessThan(0.93);
    expect(underP95 / 200).toBeGreaterThan(0.88);
  });

  it("a rate that halves four days ago: the P50 follows the new rate within 15 %", () => {
    const change = NOW - 4 * 24 * HOUR;
    for (const seed of [1, 2, 3, 4, 5]) {
      const f = forecastFinish({ now: NOW, remainingStudies: 5_000, history: history({ seed, hours: 24 * 21, mean: (at) => (at < change ? 100 : 50) }), seed });
      const t = truth({ seed: seed + 99, remaining: 5_000, mean: 50 });
      expect(Math.abs(hoursFromNow(f.finish.p50) - hoursFromNow(t)) / hoursFromNow(t)).toBeLessThan(0.15);
    }
  });

  it("windows only on weekends: closed hours move nothing, the P50 lands on a weekend within 12 hours of the truth", () => {
    const weekends: WeeklyWindows = { timeZone: "Europe/Berlin", intervals: [{ days: ["sat", "sun"], start: "00:00", end: "00:00" }] };
    const isOpen = hourOpen(weekends);
    let inBand = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const f = forecastFinish({ now: NOW, remainingStudies: 7_000, history: history({ seed, hours: 24 * 28, mean: () => 100, isOpen }), isOpen, seed });
      const t = truth({ seed: seed + 500, remaining: 7_000, mean: 100, isOpen });
      expect(isOpen(Math.floor(f.finish.p50! / HOUR) * HOUR)).toBe(true);
      expect(Math.abs(f.finish.p50! - t) / HOUR).toBeLessThan(12);
      if (f.finish.p10! <= t && t <= f.finish.p90!) inBand++;
    }
    // ~70 open hours ahead: the middle of the second weekend from now, twelve days away.
    expect(inBand / 40).toBeGreaterThan(0.65);
  });

  it("a cap change: the forecast under a lower cap runs at the capped rate (within 5 %); a higher cap scales cap-bound hours", () => {
    const h = history({ seed: 3, hours: 24 * 14, mean: () => 100 });
    const cap = (40 * BYTES_PER_STUDY) / 3600; // 40 studies an hour
    const capped = forecastFinish({ now: NOW, remainingStudies: 4_000, history: h, capBytesPerSecond: cap, seed: 3 });
    expect(Math.abs(hoursFromNow(capped.finish.p50) - 100) / 100).toBeLessThan(0.05);

    const underCap = history({ seed: 4, hours: 24 * 14, mean: () => 40, cap }).map((s) => ({ ...s, studies: 40, bytes: 40 * BYTES_PER_STUDY }));
    const same = forecastFinish({ now: NOW, remainingStudies: 4_000, history: underCap, capBytesPerSecond: cap, seed: 4 });
    const doubled = forecastFinish({ now: NOW, remainingStudies: 4_000, history: underCap, capBytesPerSecond: cap * 2, seed: 4 });
    expect(Math.abs(hoursFromNow(same.finish.p50) - 100)).toBeLessThan(2);
    expect(Math.abs(hoursFromNow(doubled.finish.p50) - 50)).toBeLessThan(2);
  });

  it("a stalled migration has no finish, and nothing remaining finishes now", () => {
    const stalled = forecastFinish({ now: NOW, remainingStudies: 10, history: [{ at: NOW - HOUR, studies: 0, bytes: 0 }] });
    expect(stalled.finish.p50).toBeNull();
    expect(forecastFinish({ now: NOW, remainingStudies: 0, history: [] }).finish.p50).toBe(NOW);
  });

  it("the burn-down band starts at the remaining studies and falls to zero by the P95 finish, P10 ≤ P50 ≤ P90", () => {
    const f = forecastFinish({ now: NOW, remainingStudies: 2_000, history: history({ seed: 9, hours: 24 * 7, mean: () => 100 }), seed: 9 });
    expect(f.band[0]).toEqual({ at: NOW, p10: 2_000, p50: 2_000, p90: 2_000 });
    expect(f.band.at(-1)!.p90).toBe(0);
    for (const b of f.band) expect(b.p10 <= b.p50 && b.p50 <= b.p90).toBe(true);
  });
});

describe("backtest", () => {
  it("on a steady history, the P50 made 1, 3 and 7 days ago predicted today's progress within 15 %", () => {
    const h = history({ seed: 11, hours: 24 * 21, mean: () => 100 });
    const points = backtest({ now: NOW, remainingStudies: 50_000, history: h, daysAgo: [1, 3, 7], seed: 11 });
    expect(points.map((p) => p.daysAgo)).toEqual([1, 3, 7]);
    for (const p of points) expect(Math.abs(p.doneError!)).toBeLessThan(0.15);
  });

  it("after the rate halved, the forecast made a week ago was too optimistic, and says so", () => {
    const change = NOW - 5 * 24 * HOUR;
    const h = history({ seed: 12, hours: 24 * 21, mean: (at) => (at < change ? 100 : 50) });
    const [week] = backtest({ now: NOW, remainingStudies: 50_000, history: h, daysAgo: [7], seed: 12 });
    expect(week!.doneError!).toBeLessThan(-0.2);
  });
});
