"use client";

import { useActionState, useState } from "react";
import type { ActionResult } from "@/server/action-result";

type Action = (prev: unknown, form: FormData) => Promise<ActionResult>;

/**
 * One tenant's Suspend… (or Reactivate…) in /ops: a required reason, then a confirm step. What was typed stays
 * when it is refused.
 */
export function SuspensionControls({ tenantName, suspended, action }: { tenantName: string; suspended: boolean; action: Action }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [state, submit, pending] = useActionState(async (prev: unknown, form: FormData) => {
    const r = await action(prev, form);
    if (r.ok) {
      setOpen(false);
      setReason("");
    }
    return r;
  }, null);
  const verb = suspended ? "Reactivate" : "Suspend";
  if (!open)
    return (
      <div className="space-y-1">
        <button type="button" className={suspended ? "text-sky-700 underline" : "text-red-700 underline"} onClick={() => setOpen(true)}>{verb}…</button>
        {state?.ok && <p role="status" data-testid="suspension-result" className="max-w-xs text-emerald-700">{state.message}</p>}
      </div>
    );
  return (
    <form action={submit} className="max-w-xs space-y-1" aria-label={`${verb} ${tenantName}`} data-testid="suspension-form">
      <p className="text-slate-600 dark:text-slate-400">
        {suspended
          ? `${tenantName}'s AE titles and routers are accepted again.`
          : `${tenantName}'s AE titles are refused and its routers disconnected. Nothing held is deleted; the TTL keeps running.`}
      </p>
      <label className="block">
        <span className="block text-slate-600">Reason (recorded in both audit logs)</span>
        <input name="reason" required minLength={3} value={reason} onChange={(e) => setReason(e.target.value)} className="w-full rounded border px-2 py-1" />
      </label>
      <div className="flex gap-2">
        <button disabled={pending || reason.trim().length < 3} className={`rounded px-2 py-0.5 text-white disabled:opacity-50 ${suspended ? "bg-sky-700" : "bg-red-700"}`}>
          Confirm {suspended ? "reactivation" : "suspension"}
        </button>
        <button type="button" className="underline" onClick={() => setOpen(false)}>Cancel</button>
      </div>
      {state && !state.ok && (
        <p role="alert" data-testid="suspension-result" className="text-red-700">
          {state.fields?.reason?.[0] || state.message}
        </p>
      )}
    </form>
  );
}
