"use client";

import { useActionState } from "react";
import type { ActionResult } from "@/server/action-result";

export function PolicyForm({ requireApproval, approvalWindowMinutes, save }: { requireApproval: boolean; approvalWindowMinutes: number; save: (prev: unknown, form: FormData) => Promise<ActionResult> }) {
  const [state, action, pending] = useActionState(save, null);
  return (
    <form action={action} className="flex flex-wrap items-end gap-4 text-sm" aria-label="Break-glass policy">
      <label className="flex items-center gap-2"><input type="checkbox" name="requireApproval" defaultChecked={requireApproval} /> Require a tenant admin&apos;s approval</label>
      <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
        Unanswered requests lapse after (minutes)
        <input name="approvalWindowMinutes" type="number" min={5} max={1440} defaultValue={approvalWindowMinutes} className="mt-1 w-28 rounded-md border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-700" />
      </label>
      <button type="submit" disabled={pending} className="rounded-md bg-sky-700 px-3 py-1.5 text-white disabled:opacity-50">Save policy</button>
      {state && <span role="status" className={state.ok ? "text-emerald-700" : "text-red-700"}>{state.ok ? state.message : (state.fields?.approvalWindowMinutes?.[0] ?? state.message)}</span>}
    </form>
  );
}
