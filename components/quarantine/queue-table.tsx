"use client";

import clsx from "clsx";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useActionState, useEffect, useState, useTransition } from "react";
import type { ActionResult } from "@/server/action-result";
import { ageOf, categoryLabel, MEANING_PRESETS } from "./labels";

export type QueueRow = {
  id: string;
  category: string;
  reason: string;
  pattern: string;
  sourceId: string;
  modalities: string[];
  studyDate: string | null;
  quarantinedAt: string | null;
  reviewStatus: string;
  state: string;
  assignee: string | null;
  mine: boolean;
};

type Props = {
  slug: string;
  rows: QueueRow[];
  canDecide: boolean;
  claim: (id: string) => Promise<ActionResult>;
  bulk: (prev: unknown, form: FormData) => Promise<ActionResult>;
  reauthHref: string;
  authFresh: boolean;
};

/** The queue: j/k move, Enter opens, c claims; items of one pattern can be decided together (one signing ceremony). */
export function QueueTable({ slug, rows, canDecide, claim, bulk, reauthHref, authFresh }: Props) {
  const router = useRouter();
  const [cursor, setCursor] = useState(0);
  const [selected, setSelected] = useState<string[]>([]);
  const [note, setNote] = useState<ActionResult | null>(null);
  const [pending, start] = useTransition();
  const [bulkState, bulkAction, bulkPending] = useActionState(bulk, null);
  const [decision, setDecision] = useState<"skip" | "escalate">("skip");
  const pattern = rows.find((r) => r.id === selected[0])?.pattern;
  // Set once the table is interactive (hydrated): selection made before then would be lost.
  const [ready, setReady] = useState(false);
  useEffect(() => setReady(true), []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement) return;
      if (e.key === "j") setCursor((c) => Math.min(rows.length - 1, c + 1));
      else if (e.key === "k") setCursor((c) => Math.max(0, c - 1));
      else if (e.key === "Enter" && rows[cursor]) router.push(`/t/${slug}/quarantine/${rows[cursor].id}`);
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [rows, cursor, router, slug]);

  const toggle = (r: QueueRow) => setSelected((s) => (s.includes(r.id) ? s.filter((x) => x !== r.id) : [...s, r.id]));
  return (
    <div className="space-y-4">
      <table className="w-full text-left text-sm" data-testid="quarantine-queue" data-ready={ready || undefined}>
        <thead className="text-slate-500">
          <tr>
            {canDecide && <th className="w-6" aria-label="Select" />}
            <th>Category</th>
            <th>Reason</th>
            <th>Source</th>
            <th>Modality</th>
            <th>Study date</th>
            <th>Age</th>
            <th>Assignee</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => {
            const age = ageOf(r.quarantinedAt);
            const selectable = r.state === "new" && (!pattern || pattern === r.pattern);
            return (
              <tr key={r.id} data-testid="queue-row" data-item={r.id} className={clsx("border-t border-slate-200 dark:border-slate-800", i === cursor && "bg-sky-50 dark:bg-sky-950")}>
                {canDecide && (
                  <td>
                    <input type="checkbox" aria-label={`Select ${r.id}`} disabled={!selectable && !selected.includes(r.id)} checked={selected.includes(r.id)} onChange={() => toggle(r)} />
                  </td>
                )}
                <td>{categoryLabel(r.category)}</td>
                <td className="max-w-xs truncate" title={r.reason}>{r.reason}</td>
                <td>{r.sourceId}</td>
                <td>{r.modalities.join(", ")}</td>
                <td>{r.studyDate ?? "—"}</td>
                <td className={clsx(age.old && "font-semibold text-red-700")} data-old={age.old || undefined}>{age.label}</td>
                <td>{r.assignee ?? "—"}</td>
                <td data-testid="queue-status">{r.reviewStatus}</td>
                <td className="space-x-2 whitespace-nowrap">
                  <Link href={`/t/${slug}/quarantine/${r.id}`} className="text-sky-700 underline">Review</Link>
                  {canDecide && !r.assignee && r.state === "new" && (
                    <button type="button" disabled={pending} className="rounded border px-2" onClick={() => start(async () => setNote(await claim(r.id)))}>
                      Claim
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {note && <p role="status" className={note.ok ? "text-sm text-emerald-700" : "text-sm text-red-700"}>{note.message}</p>}
      {canDecide && selected.length > 1 && (
        <form action={bulkAction} className="max-w-xl space-y-2 rounded-lg border border-slate-200 p-3 dark:border-slate-800" aria-label="Decide selected studies">
          <p className="text-sm">{selected.length} studies of one pattern: one review, one signing ceremony, a signature recorded for each.</p>
          <input type="hidden" name="items" value={JSON.stringify(selected)} />
          <select name="decision" value={decision} onChange={(e) => setDecision(e.target.value as "skip" | "escalate")} className="rounded border px-2 py-1">
            <option value="skip">Skip (exclude)</option>
            <option value="escalate">Escalate</option>
          </select>
          <textarea name="reason" required minLength={3} placeholder="Reason" className="block w-full rounded border px-2 py-1" />
          <input name="meaning" required defaultValue={MEANING_PRESETS[decision]} key={decision} className="block w-full rounded border px-2 py-1" />
          {authFresh ? (
            <button disabled={bulkPending} className="rounded bg-sky-700 px-3 py-1.5 text-white">Sign {selected.length} decisions</button>
          ) : (
            <a href={reauthHref} className="inline-block rounded bg-amber-600 px-3 py-1.5 text-white">Re-authenticate to sign</a>
          )}
          {bulkState && <p role="status" className={bulkState.ok ? "text-sm text-emerald-700" : "text-sm text-red-700"}>{bulkState.message}</p>}
        </form>
      )}
    </div>
  );
}
