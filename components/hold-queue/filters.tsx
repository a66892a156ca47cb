import Link from "next/link";

const STATUSES = ["held", "notified", "pulled", "acked", "expired", "purged"];

/** The hold queue's filters as a GET form: everything stays in the URL. */
export function HoldQueueFilters({ slug, raw }: { slug: string; raw: Record<string, string> }) {
  const input = "mt-1 rounded-md border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-700";
  return (
    <form method="get" action={`/t/${slug}/hold-queue`} className="flex flex-wrap items-end gap-3" aria-label="Filter the hold queue">
      <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
        Status
        <select name="status" defaultValue={raw.status ?? ""} className={input}>
          <option value="">any</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </label>
      <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">Vendor (calling AE)<input name="vendor" defaultValue={raw.vendor ?? ""} className={input} /></label>
      <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">Modality<input name="modality" defaultValue={raw.modality ?? ""} className={`${input} w-24`} /></label>
      <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">Received from<input name="from" type="datetime-local" defaultValue={raw.from ?? ""} className={input} /></label>
      <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">Received to<input name="to" type="datetime-local" defaultValue={raw.to ?? ""} className={input} /></label>
      <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">Study, series or SOP instance UID<input name="uid" defaultValue={raw.uid ?? ""} className={`${input} w-72 font-mono`} /></label>
      <button type="submit" className="rounded-md bg-slate-800 px-3 py-1.5 text-sm text-white dark:bg-slate-200 dark:text-slate-900">Apply</button>
      <Link href={`/t/${slug}/hold-queue`} className="px-2 py-1.5 text-sm text-slate-600 underline dark:text-slate-400">Clear</Link>
    </form>
  );
}
