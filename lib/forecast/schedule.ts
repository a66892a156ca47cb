// The weekly window schedule as a predicate on hours, for the forecast and the what-if panel, decided by the
// engine's rule (engine/migration/windows.ts): intervals in a time zone, an end before its start runs past midnight.
// An hour counts as open when the window is open at its middle: half-hour edges fall either way, evenly.
import { windowOpen, type Windows } from "@/engine/migration/windows";

export type WeeklyWindows = { timeZone: string; intervals: { days: string[]; start: string; end: string }[] };

/** Whether the schedule is open at `at` (ms): the engine's own rule. */
export const openAt = (windows: WeeklyWindows | null | undefined, at: number): boolean => windowOpen(windows as Windows | null | undefined, new Date(at));

/** Whether the hour starting at `hourStart` is worked under the schedule. */
export const hourOpen = (windows: WeeklyWindows | null | undefined) => (hourStart: number) => openAt(windows, hourStart + 30 * 60_000);
