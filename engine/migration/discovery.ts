// Discovery: which studies a source holds for a plan's filters. Archives cap how many matches one C-FIND returns
// (some end the answer with Cancel, some say nothing at all), so the date range is walked in slices: a slice whose answer reaches the cap is
// split (days, then hours of one day, down to minutes) and asked again, until every answer is below the cap.
import type { FindResult, StudyMatch } from "../dicom/scu";

export type DateRange = { from: string; to: string }; // YYYY-MM-DD, inclusive
export type FindQuery = { StudyDate: string; StudyTime?: string; ModalitiesInStudy?: string };

const dicomDate = (iso: string) => iso.replaceAll("-", "");
const addDays = (iso: string, days: number) => new Date(Date.parse(`${iso}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const daysBetween = (a: string, b: string) => Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, "0")}${String(minutes % 60).padStart(2, "0")}`;

export class DiscoveryError extends Error {}

/** A StudyDate the date filter can place: YYYYMMDD. */
export const isDicomDate = (d: string | null | undefined) => !!d && /^\d{8}$/.test(d.trim());

/** A UID as PS3.5 §9.1 writes it: numeric components separated by dots, at most 64 characters. */
export const isDicomUid = (u: string) => u.length <= 64 && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/.test(u);

/**
 * Every study in `range` (for each of `modalities`, or all), deduplicated by Study Instance UID. `cap` is the
 * archive's result limit (0 = none); `onQuery` sees every C-FIND, for progress and tests.
 */
export async function discoverStudies(opts: {
  range: DateRange;
  modalities: string[];
  cap: number;
  find: (q: FindQuery) => Promise<FindResult>;
  onQuery?: (q: FindQuery, matches: number) => void;
  /** the query for undated studies reached the archive's cap: some may be missing */
  onUndatedCapped?: (message: string) => void;
}): Promise<StudyMatch[]> {
  if (daysBetween(opts.range.from, opts.range.to) < 0) throw new DiscoveryError(`the date range ends (${opts.range.to}) before it starts (${opts.range.from})`);
  const found = new Map<string, StudyMatch>();
  /** The answer, and whether it may be incomplete: the archive said so, or it reached the configured cap. */
  async function ask(q: FindQuery) {
    const { matches, truncated } = await opts.find(q);
    opts.onQuery?.(q, matches.length);
    return { matches, capped: truncated || (opts.cap > 0 && matches.length >= opts.cap) };
  }

  /** One day, by time of day: [start, end) in minutes. */
  async function walkDay(day: string, modality: string | undefined, start: number, end: number): Promise<void> {
    const q: FindQuery = { StudyDate: dicomDate(day), StudyTime: `${hhmm(start)}00-${hhmm(end - 1)}59`, ...(modality ? { ModalitiesInStudy: modality } : {}) };
    const { matches, capped } = await ask(q);
    if (!capped) return void matches.forEach((m) => found.set(m.studyInstanceUid, m));
    if (end - start <= 1) throw new DiscoveryError(`more than ${opts.cap} studies on ${day} within one minute: raise the archive's C-FIND result limit`);
    const mid = start + Math.floor((end - start) / 2);
    await walkDay(day, modality, start, mid);
    await walkDay(day, modality, mid, end);
  }

  async function walk(from: string, to: string, modality: string | undefined): Promise<void> {
    const q: FindQuery = { StudyDate: `${dicomDate(from)}-${dicomDate(to)}`, ...(modality ? { ModalitiesInStudy: modality } : {}) };
    const { matches, capped } = await ask(q);
    if (!capped) return void matches.forEach((m) => found.set(m.studyInstanceUid, m));
    const days = daysBetween(from, to);
    if (days === 0) return walkDay(from, modality, 0, 24 * 60);
    const mid = addDays(from, Math.floor(days / 2));
    await walk(from, mid, modality);
    await walk(addDays(mid, 1), to, modality);
  }

  for (const modality of opts.modalities.length ? opts.modalities : [undefined]) await walk(opts.range.from, opts.range.to, modality);
  // Range matching never matches an empty StudyDate, and a malformed one falls outside every range, so the walk
  // cannot find such studies: one universal query per modality does, and they are kept (a lost study is never the
  // default). An archive that caps that answer may hide some; the caller is told.
  for (const modality of opts.modalities.length ? opts.modalities : [undefined]) {
    const { matches, capped } = await ask({ StudyDate: "", ...(modality ? { ModalitiesInStudy: modality } : {}) });
    for (const m of matches) if (!isDicomDate(m.studyDate) && !found.has(m.studyInstanceUid)) found.set(m.studyInstanceUid, m);
    if (capped) opts.onUndatedCapped?.(`the archive capped the query for studies without a valid StudyDate${modality ? ` (${modality})` : ""} at ${matches.length} answers; some such studies may not be listed`);
  }
  return [...found.values()];
}
