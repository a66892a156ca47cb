// Schedule windows: weekly intervals in the plan's time zone (e.g. weeknights 19:00–06:00 and weekends). An
// interval whose end is before its start runs past midnight into the next day.
import type { z } from "zod";
import type { MigrationWindows } from "../api/contract";

export type Windows = z.infer<typeof MigrationWindows>;
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

// One formatter per time zone: the forecast asks about thousands of hours.
const formatters = new Map<string, Intl.DateTimeFormat>();
const formatter = (timeZone: string) => {
  let f = formatters.get(timeZone);
  if (!f) formatters.set(timeZone, (f = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })));
  return f;
};

/** Weekday and minute of the day at `at` in `timeZone`. */
function localTime(at: Date, timeZone: string) {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(at).map((p) => [p.type, p.value]));
  const day = DAYS.indexOf(parts.weekday!.toLowerCase().slice(0, 3) as (typeof DAYS)[number]);
  return { day, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether new work may start at `at` (no windows: always). */
export function windowOpen(windows: Windows | null | undefined, at: Date): boolean {
  if (!windows) return true;
  const { day, minute } = localTime(at, windows.timeZone);
  const today = DAYS[day]!;
  const yesterday = DAYS[(day + 6) % 7]!;
  return windows.intervals.some((w) => {
    const [start, end] = [minutes(w.start), minutes(w.end)];
    if (start < end) return w.days.includes(today) && minute >= start && minute < end;
    // Overnight: from start on a listed day until end on the next morning.
    return (w.days.includes(today) && minute >= start) || (w.days.includes(yesterday) && minute < end);
  });
}
