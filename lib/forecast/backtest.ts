// Back-test: replay the migration's own history. For each day N ago, forecast from what was known then (the
// history up to that instant and the studies remaining then) and compare with what happened: how many studies
// the P50 said would be done by now against how many were, and, once the migration has finished, the P50 finish
// against the real one. People see how much to trust today's forecast from how yesterday's did.
import { forecastFinish, type ForecastInput, type HourSample } from "./monte-carlo";

export type BacktestPoint = {
  daysAgo: number;
  /** the P50 finish forecast then */
  p50Finish: number | null;
  predictedDone: number;
  actualDone: number;
  /** (actual − predicted) / predicted done: negative means the forecast was too optimistic */
  doneError: number | null;
  /** when the migration has finished: P50 finish minus the real finish, in hours */
  finishErrorHours: number | null;
};

export function backtest(
  input: Omit<ForecastInput, "history" | "remainingStudies"> & { history: HourSample[]; remainingStudies: number; finishedAt?: number | null; daysAgo?: number[] },
): BacktestPoint[] {
  const days = input.daysAgo ?? [1, 3, 7, 14];
  const points: BacktestPoint[] = [];
  for (const d of days) {
    const then = input.now - d * 86_400_000;
    const before = input.history.filter((h) => h.at + 3_600_000 <= then);
    if (before.length < 6) continue; // too little history then to have made a forecast
    const actualDone = input.history.filter((h) => h.at + 3_600_000 > then).reduce((n, h) => n + h.studies, 0);
    const remainingThen = input.remainingStudies + actualDone;
    const f = forecastFinish({ ...input, runs: Math.min(input.runs ?? 400, 400), now: then, history: before, remainingStudies: remainingThen, checkpoint: input.now });
    const predictedDone = remainingThen - f.atCheckpoint!.p50;
    points.push({
      daysAgo: d,
      p50Finish: f.finish.p50,
      predictedDone: Math.round(predictedDone),
      actualDone,
      doneError: predictedDone > 0 ? (actualDone - predictedDone) / predictedDone : null,
      finishErrorHours: input.finishedAt && f.finish.p50 ? (f.finish.p50 - input.finishedAt) / 3_600_000 : null,
    });
  }
  return points;
}
