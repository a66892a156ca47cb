// Monte Carlo forecast of a migration's finish: each run walks forward hour by hour, and in every hour the
// schedule leaves open it draws one of the migration's observed hourly rates (recent hours weighted more, so a
// regime change shows within days), limited by the bandwidth cap. Closed hours move nothing. The spread of the
// runs' finish times is the forecast's uncertainty. Pure: no clock, no I/O, a seeded generator. See docs/forecast.md.
import { mulberry32, type Random } from "./random";

/** One observed hour in which the migration could work (inside a window, not paused). */
export type HourSample = {
  /** start of the hour, epoch ms */
  at: number;
  studies: number;
  bytes: number;
  /** the overall cap in force then (bytes/s); a sample near its cap says the cap, not the pipeline, set the pace */
  capBytesPerSecond?: number | null;
};

export type ForecastInput = {
  now: number;
  remainingStudies: number;
  history: HourSample[];
  /** whether the schedule lets the migration work in the hour starting at `at` (epoch ms); default always */
  isOpen?: (at: number) => boolean;
  /** the overall cap to forecast with (bytes/s); null or undefined: none */
  capBytesPerSecond?: number | null;
  runs?: number;
  /** recency weighting: a sample this many observed hours older counts half as much (default 24) */
  halfLifeHours?: number;
  seed?: number;
  /** give up after this many hours ahead (a stalled migration has no finish) */
  horizonHours?: number;
  /** points in the returned burn-down band */
  bandPoints?: number;
  /** also report the remaining studies' quantiles at this instant (the back-test asks for "now") */
  checkpoint?: number;
};

export const QUANTILES = [0.1, 0.5, 0.85, 0.9, 0.95] as const;
export type Finish = { p10: number | null; p50: number | null; p85: number | null; p90: number | null; p95: number | null };
export type BandPoint = { at: number; p10: number; p50: number; p90: number };
export type Forecast = { finish: Finish; band: BandPoint[]; runs: number; samples: number; unfinishedRuns: number; atCheckpoint?: BandPoint };

const HOUR = 3_600_000;
const CAPPED = 0.9; // a sample at 90 % of its cap or more is taken to be cap-bound

/**
 * Cumulative recency weights (for the alias table and the weighted mean). Age is counted in observed hours (samples
 * newer than this one), not wall-clock time, so a weekend-only schedule weighs last weekend against the one
 * before as a round-the-clock one weighs yesterday against the day before.
 */
function weighted(history: HourSample[], halfLifeHours: number) {
  const order = history.map((h, i) => [h.at, i] as const).sort((a, b) => b[0] - a[0]);
  const weights = new Float64Array(history.length);
  order.forEach(([, i], age) => (weights[i] = Math.pow(0.5, age / halfLifeHours)));
  const cdf = new Float64Array(history.length);
  let sum = 0;
  let squares = 0;
  weights.forEach((w, i) => {
    sum += w;
    squares += w * w;
    cdf[i] = sum;
  });
  // The effective number of samples: how much the weighted history really knows about the mean rate.
  return { cdf, sum, effective: (sum * sum) / squares };
}

/**
 * Walker's alias table for the weights: a draw is one random number and two lookups, whatever the history's
 * length (a binary search over a year of hours was most of the forecast's time).
 */
function aliasTable(cdf: Float64Array, sum: number) {
  const n = cdf.length;
  const prob = new Float64Array(n);
  const alias = new Uint32Array(n);
  const scaled = Float64Array.from(cdf, (c, i) => ((c - (i ? cdf[i - 1]! : 0)) * n) / sum);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
  while (small.length && large.length) {
    const s = small.pop()!;
    const l = large.pop()!;
    prob[s] = scaled[s]!;
    alias[s] = l;
    scaled[l] = scaled[l]! + scaled[s]! - 1;
    (scaled[l]! < 1 ? small : large).push(l);
  }
  for (const i of [...small, ...large]) prob[i] = 1;
  return (random: Random) => {
    const x = random() * n;
    const i = Math.floor(x);
    return x - i < prob[i]! ? i : alias[i]!;
  };
}

/**
 * Studies per hour each sample stands for under the forecast's cap: a sample is never faster than the cap
 * allows at its own bytes per study; a cap-bound sample under a higher cap scales up in proportion (optimistic:
 * it assumes the pipeline had the headroom).
 */
function effectiveRates(history: HourSample[], cap: number | null | undefined) {
  return Float64Array.from(history, (h) => {
    if (h.studies <= 0) return 0;
    const perStudy = h.bytes / h.studies;
    let rate = h.studies;
    const oldCapPerHour = h.capBytesPerSecond ? h.capBytesPerSecond * 3600 : null;
    if (cap && oldCapPerHour && h.bytes >= CAPPED * oldCapPerHour && cap > h.capBytesPerSecond!) rate *= cap / h.capBytesPerSecond!;
    if (cap && perStudy > 0) rate = Math.min(rate, (cap * 3600) / perStudy);
    return rate;
  });
}

function quantile(sorted: ArrayLike<number>, q: number) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function forecastFinish(input: ForecastInput): Forecast {
  const runs = input.runs ?? 1000;
  const horizon = input.horizonHours ?? 24 * 365 * 3;
  const bandPoints = input.bandPoints ?? 60;
  const start = Math.floor(input.now / HOUR) * HOUR + HOUR; // the current hour is already under way
  const empty = { p10: null, p50: null, p85: null, p90: null, p95: null };
  if (input.remainingStudies <= 0) {
    const done = { p10: input.now, p50: input.now, p85: input.now, p90: input.now, p95: input.now };
    return { finish: done, band: [{ at: input.now, p10: 0, p50: 0, p90: 0 }], runs, samples: input.history.length, unfinishedRuns: 0 };
  }
  const rates = effectiveRates(input.history, input.capBytesPerSecond);
  if (!rates.some((r) => r > 0)) return { finish: empty, band: [], runs, samples: input.history.length, unfinishedRuns: runs };

  const { cdf, sum, effective } = weighted(input.history, input.halfLifeHours ?? 24);
  let mean = 0;
  for (let i = 0; i < rates.length; i++) mean += rates[i]! * (cdf[i]! - (i ? cdf[i - 1]! : 0));
  mean /= sum;
  const meanDraws = Math.max(1, Math.min(400, Math.round(effective)));
  // The schedule is the same for every run: which future hours are open, computed once, as far ahead as ten
  // times the hours the mean rate needs (a run slower than that is counted unfinished), within the horizon.
  const needed = Math.ceil((10 * input.remainingStudies) / mean) + 48;
  const open: number[] = [];
  for (let h = 0; h < horizon && open.length < needed; h++) if (!input.isOpen || input.isOpen(start + h * HOUR)) open.push(h);
  const random = mulberry32(input.seed ?? 1);
  const draw = aliasTable(cdf, sum);
  const finishes = new Float64Array(runs).fill(Infinity);
  // Each run's studies done after every `stride`-th open hour, for the burn-down band (bounded memory over a
  // long horizon: at most ~4,000 points a run).
  const perRunCumulative: Float32Array[] = [];
  const stride = Math.max(1, Math.floor(open.length / 4000));
  const scratch = new Float32Array(Math.ceil(open.length / stride) + 1);

  for (let r = 0; r < runs; r++) {
    // The history is itself a sample: each run first redraws the mean rate from it (as many draws as the weighted
    // history is worth) and scales its hours by that, so the band carries the uncertainty of the mean too and not
    // only the hour-to-hour noise.
    let runMean = 0;
    for (let d = 0; d < meanDraws; d++) runMean += rates[draw(random)]!;
    const scale = runMean / meanDraws / mean;
    let left = input.remainingStudies;
    let i = 0;
    for (; i < open.length && left > 0; i++) {
      const rate = rates[draw(random)]! * scale;
      if (rate > 0 && rate >= left) {
        finishes[r] = start + open[i]! * HOUR + (left / rate) * HOUR;
        left = 0;
      } else left -= rate;
      scratch[Math.floor(i / stride)] = input.remainingStudies - left; // the block's last hour wins
    }
    perRunCumulative.push(scratch.slice(0, Math.ceil(i / stride)));
  }

  const sorted = Float64Array.from(finishes).sort();
  const unfinishedRuns = sorted.filter((f) => !Number.isFinite(f)).length;
  const at = (q: number) => {
    const v = quantile(sorted, q);
    return Number.isFinite(v) ? Math.round(v) : null;
  };
  const finish: Finish = { p10: at(0.1), p50: at(0.5), p85: at(0.85), p90: at(0.9), p95: at(0.95) };

  // Remaining studies over time across runs, to the P95 finish (or the horizon).
  const remainingAt = (t: number): BandPoint => {
    const before = upperBound(open, (t - start) / HOUR - 1); // open hours over by t
    const k = before === 0 ? -1 : Math.floor((before - 1) / stride);
    const left = Float64Array.from(perRunCumulative, (c) => (k < 0 || c.length === 0 ? input.remainingStudies : input.remainingStudies - c[Math.min(k, c.length - 1)]!)).sort();
    return { at: t, p10: quantile(left, 0.1), p50: quantile(left, 0.5), p90: quantile(left, 0.9) };
  };
  const end = finish.p95 ?? start + ((open.at(-1) ?? 0) + 1) * HOUR;
  const bandStep = Math.max(HOUR, Math.ceil((end - input.now) / bandPoints / HOUR) * HOUR);
  const band: BandPoint[] = [{ at: input.now, p10: input.remainingStudies, p50: input.remainingStudies, p90: input.remainingStudies }];
  for (let t = start + bandStep; t <= end + bandStep; t += bandStep) band.push(remainingAt(t));
  const atCheckpoint = input.checkpoint !== undefined ? remainingAt(input.checkpoint) : undefined;
  return { finish, band, runs, samples: input.history.length, unfinishedRuns, atCheckpoint };
}

function upperBound(sorted: number[], x: number) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
