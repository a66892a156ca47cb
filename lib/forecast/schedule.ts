// The weekly window schedule as a predicate on hours, for the forecast and the what-if panel. Same rules as the
// engine's (engine/migration/windows.ts): intervals in a time zone, an end before its start runs past midnight.
// An hour counts as open when the window is open at its middle: half-hour edges fall either way, evenly.
export type WeeklyWindows = { timeZone: string; intervals: { days: string[]; start: string; end: string }[] };

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const formatters = new Map<string, Intl.DateTimeFormat>();
const formatter = (timeZone: string) => {
  let f = formatters.get(timeZone);
  if (!f) formatters.set(timeZone, (f = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })));
  return f;
};
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function openAt(windows: WeeklyWindows | null | undefined, at: number): boolean {
  if (!windows) return true;
  const parts = Object.fromEntries(formatter(windows.timeZone).formatToParts(new Date(at)).map((p) => [p.type, p.value]));
  const day = DAYS.indexOf(parts.weekday!.toLowerCase().slice(0, 3));
  const minute = Number(parts.hour) * 60 + Number(parts.minute);
  const today = DAYS[day]!;
  const yesterday = DAYS[(day + 6) % 7]!;
  return windows.intervals.some((w) => {
    const [start, end] = [minutes(w.start), minutes(w.end)];
    if (start < end) return w.days.includes(today) && minute >= start && minute < end;
    return (w.days.includes(today) && minute >= start) || (w.days.includes(yesterday) && minute < end);
  });
}

/** Whether the hour starting at `hourStart` is worked under the schedule. */
export const hourOpen = (windows: WeeklyWindows | null | undefined) => (hourStart: number) => openAt(windows, hourStart + 30 * 60_000);
