"use client";

import { useActionState, useState, useTransition } from "react";
import type { ActionResult } from "@/server/action-result";

type Props = {
  uids: string[];
  canUpdate: boolean;
  add: (prev: unknown, form: FormData) => Promise<ActionResult>;
  remove: (uid: string) => Promise<ActionResult>;
};

/**
 * Private storage SOP classes this tenant accepts besides the standard ones (a vendor's own objects, which the
 * engine otherwise refuses at association). What was typed stays when it is refused.
 */
export function PrivateSopClassList({ uids, canUpdate, add, remove }: Props) {
  const [uid, setUid] = useState("");
  const [state, action, pending] = useActionState(async (prev: unknown, form: FormData) => {
    const r = await add(prev, form);
    if (r.ok) setUid("");
    return r;
  }, null);
  const [notes, setNotes] = useState<Record<string, ActionResult>>({});
  const [busy, start] = useTransition();
  const fieldError = state && !state.ok ? (state.fields?.uid?.[0] ?? state.message) : undefined;
  return (
    <section className="space-y-3 rounded-lg border border-slate-200 p-4 dark:border-slate-800" aria-label="Private SOP classes" data-testid="private-sop-classes">
      <div>
        <h2 className="font-medium">Private SOP classes</h2>
        <p className="text-sm text-slate-600 dark:text-slate-400">
          Every standard storage SOP class is accepted. A vendor&apos;s private one (its own UID root, not 1.2.840.10008) is accepted only when listed here;
          it is stored and forwarded exactly as sent, so the PACS must accept it too.
        </p>
      </div>
      <ul className="space-y-1">
        {uids.map((u) => (
          <li key={u} className="flex flex-wrap items-center gap-3 text-sm" data-testid="private-sop-class">
            <code className="min-w-40">{u}</code>
            {canUpdate && (
              <button
                type="button"
                disabled={busy}
                onClick={() => start(async () => setNotes({ ...notes, [u]: await remove(u) }))}
                className="text-xs text-red-700 underline"
              >
                Remove
              </button>
            )}
            {notes[u] && <span role="status" className={notes[u].ok ? "text-xs text-emerald-700" : "text-xs text-red-700"}>{notes[u].message}</span>}
          </li>
        ))}
        {uids.length === 0 && <li className="text-sm text-slate-500">None: only standard storage SOP classes are accepted.</li>}
      </ul>
      {canUpdate && (
        <form action={action} className="flex flex-wrap items-start gap-2">
          <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
            Add a SOP class UID
            <input name="uid" value={uid} onChange={(e) => setUid(e.target.value)} maxLength={64} aria-invalid={!!fieldError} className="mt-1 w-96 rounded-md border border-slate-300 bg-transparent px-2 py-1 font-mono text-sm dark:border-slate-700" />
          </label>
          <button type="submit" disabled={pending} className="mt-5 rounded-md bg-sky-700 px-3 py-1.5 text-sm text-white disabled:opacity-50">Add</button>
          {state && <p role={state.ok ? "status" : "alert"} data-testid="private-sop-class-result" className={`mt-6 text-sm ${state.ok ? "text-emerald-700" : "text-red-700"}`}>{state.ok ? state.message : fieldError}</p>}
        </form>
      )}
    </section>
  );
}
