"use client";

import { useActionState, useState, useTransition } from "react";
import type { ActionResult } from "@/server/action-result";

type Props = {
  purge: (prev: unknown, form: FormData) => Promise<ActionResult>;
  renotify: () => Promise<ActionResult>;
};

/** Purge (a reason and a confirmation) and re-notify, for tenant admins. */
export function ResultActions({ purge, renotify }: Props) {
  const [state, purgeAction, purging] = useActionState(purge, null);
  const [confirming, setConfirming] = useState(false);
  const [note, setNote] = useState<ActionResult | null>(null);
  const [pending, start] = useTransition();
  const reasonError = state && !state.ok ? state.fields?.reason?.[0] : undefined;
  return (
    <div className="space-y-4">
      <form action={purgeAction} className="max-w-xl space-y-2" aria-label="Purge this result">
        <label className="flex flex-col text-sm">
          Reason for purging (kept in the audit log)
          <textarea name="reason" required minLength={3} maxLength={500} rows={2} aria-invalid={!!reasonError} className="mt-1 rounded-md border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-700" />
        </label>
        {reasonError && <p className="text-sm text-red-700">{reasonError}</p>}
        {!confirming ? (
          <button type="button" onClick={() => setConfirming(true)} className="rounded-md border border-red-300 px-3 py-1.5 text-sm text-red-800 hover:bg-red-50 dark:border-red-800 dark:text-red-300">
            Purge…
          </button>
        ) : (
          <div className="flex items-center gap-2">
            <span className="text-sm">The result&apos;s bytes will be deleted for good. Purge it?</span>
            <button type="submit" disabled={purging} className="rounded-md bg-red-700 px-3 py-1.5 text-sm text-white disabled:opacity-50">Yes, purge</button>
            <button type="button" onClick={() => setConfirming(false)} className="text-sm underline">Cancel</button>
          </div>
        )}
        {state && <p role="status" data-testid="purge-result" className={state.ok ? "text-sm text-emerald-700" : "text-sm text-red-700"}>{state.message}</p>}
      </form>
      <div className="space-y-1">
        <button type="button" disabled={pending} onClick={() => start(async () => setNote(await renotify()))} className="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 disabled:opacity-50 dark:border-slate-700 dark:hover:bg-slate-800">
          Re-notify routers
        </button>
        {note && <p role="status" className={note.ok ? "text-sm text-emerald-700" : "text-sm text-red-700"}>{note.message}</p>}
      </div>
    </div>
  );
}
