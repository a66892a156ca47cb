import Link from "next/link";
import type { AuditRow } from "@/server/audit/queries";
import { jsonDiff } from "./json-diff";

const show = (v: unknown) => (v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));

/** One audit entry: who, what, why, the before/after diff and its place in the chain. */
export function EntryDetail({ entry, backHref }: { entry: AuditRow; backHref: string }) {
  const rows = jsonDiff(entry.before, entry.after);
  const actor = entry.actor;
  return (
    <div className="space-y-6">
      <Link href={backHref} className="text-sm underline">← Audit log</Link>
      <h1 className="text-2xl font-semibold">Entry {entry.seq}: <span className="font-mono">{entry.action}</span></h1>
      <dl className="grid max-w-3xl grid-cols-[10rem_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="text-slate-500">Time (UTC)</dt><dd className="font-mono">{entry.at}</dd>
        <dt className="text-slate-500">Actor</dt>
        <dd>{"system" in actor ? actor.system : `${actor.name} <${actor.email}> · ${actor.roles.join(", ")}`}{"grantId" in actor && actor.grantId ? ` · break-glass grant ${actor.grantId}` : ""}</dd>
        <dt className="text-slate-500">Target</dt><dd className="font-mono">{entry.target}</dd>
        <dt className="text-slate-500">Reason</dt><dd>{entry.reason ?? "—"}</dd>
        <dt className="text-slate-500">Source</dt><dd>{entry.source}</dd>
        <dt className="text-slate-500">Request</dt><dd className="font-mono">{entry.requestId ?? "—"}</dd>
        <dt className="text-slate-500">Previous hash</dt><dd className="break-all font-mono text-xs">{entry.prevHash}</dd>
        <dt className="text-slate-500">Hash</dt><dd className="break-all font-mono text-xs" data-testid="entry-hash">{entry.hash}</dd>
      </dl>
      <table className="w-full max-w-4xl text-left text-sm" data-testid="entry-diff">
        <thead className="border-b border-slate-200 text-slate-500 dark:border-slate-800">
          <tr><th className="py-2">Field</th><th>Before</th><th>After</th></tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.path} className={r.changed ? "bg-amber-50 dark:bg-amber-950/40" : ""}>
              <td className="py-1 font-mono text-xs">{r.path}</td>
              <td className={r.changed ? "font-mono text-xs text-red-700 line-through dark:text-red-400" : "font-mono text-xs"}>{show(r.before)}</td>
              <td className={r.changed ? "font-mono text-xs text-emerald-700 dark:text-emerald-400" : "font-mono text-xs"}>{show(r.after)}</td>
            </tr>
          ))}
          {rows.length === 0 && <tr><td colSpan={3} className="py-2 text-slate-500">No before/after recorded.</td></tr>}
        </tbody>
      </table>
    </div>
  );
}
