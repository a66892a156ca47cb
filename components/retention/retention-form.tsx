"use client";

import { useQuery } from "@tanstack/react-query";
import { useActionState, useEffect, useState } from "react";
import type { RetentionPreview } from "@/engine/api/contract";
import type { ActionResult } from "@/server/action-result";
import type { RetentionState } from "@/server/retention/service";

type Props = {
  initial: RetentionState;
  canUpdate: boolean;
  preview: (ttlDays: number) => Promise<ActionResult<RetentionPreview>>;
  save: (prev: unknown, form: FormData) => Promise<ActionResult>;
  status: () => Promise<RetentionState>;
};

/** The TTL form: a preview of the change's effect on the live queue, then save, then pending → applied, live. */
export function RetentionForm({ initial, canUpdate, preview, save, status }: Props) {
  const { data: state } = useQuery({ queryKey: ["retention-status"], queryFn: status, initialData: initial, refetchInterval: 2000 });
  const [ttl, setTtl] = useState(String(initial.ttlDays));
  const [impact, setImpact] = useState<ActionResult<RetentionPreview> | null>(null);
  const [result, action, pending] = useActionState(save, null);
  const ttlNumber = Number(ttl);
  const valid = Number.isInteger(ttlNumber) && ttlNumber >= 1 && ttlNumber <= 30;

  useEffect(() => {
    if (!canUpdate || !valid || ttlNumber === state.ttlDays) return setImpact(null);
    const t = setTimeout(() => void preview(ttlNumber).then(setImpact), 250);
    return () => clearTimeout(t);
  }, [ttlNumber, valid, canUpdate, state.ttlDays, preview]);

  const p = impact?.ok ? (impact.data as RetentionPreview) : null;
  return (
    <div className="max-w-2xl space-y-5">
      <p className="text-lg">
        Results are kept <strong data-testid="current-ttl">{state.ttlDays} days</strong> after they arrive.
      </p>
      <p data-testid="apply-status" className={state.applied ? "text-emerald-700 dark:text-emerald-400" : "text-amber-700 dark:text-amber-400"}>
        {state.applied ? `Applied by the engine (version ${state.version})` : `Pending: version ${state.version} is not applied by the engine yet`}
        {!state.applied && state.lastSyncError ? ` (last attempt: ${state.lastSyncError})` : ""}
      </p>
      {canUpdate && (
        <form action={action} className="space-y-3" aria-label="Change the retention">
          <input type="hidden" name="expectedVersion" value={state.version} />
          <label className="flex flex-col text-sm">
            New TTL in whole days (1 to 30)
            <input name="ttlDays" type="number" min={1} max={30} step={1} required value={ttl} onChange={(e) => setTtl(e.target.value)}
              aria-invalid={!valid} className="mt-1 w-32 rounded-md border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-700" />
          </label>
          {!valid && <p className="text-sm text-red-700">Enter a whole number of days from 1 to 30.</p>}
          {impact && !impact.ok && <p className="text-sm text-amber-700">Preview unavailable: {impact.message}</p>}
          {p && (
            <div data-testid="impact" className="rounded-md bg-slate-50 p-3 text-sm dark:bg-slate-900">
              <p>Of the {p.live} results in the queue now, with {p.ttlDays} days:</p>
              <ul className="list-disc pl-5">
                <li><strong data-testid="expire-now">{p.expireImmediately}</strong> would expire immediately</li>
                <li><strong data-testid="lose-time">{p.loseTime}</strong> would expire sooner</li>
                <li><strong data-testid="gain-time">{p.gainTime}</strong> would be kept longer</li>
              </ul>
            </div>
          )}
          <button type="submit" disabled={pending || !valid} className="rounded-md bg-sky-700 px-3 py-1.5 text-sm text-white disabled:opacity-50">Save</button>
          {result && <p role="status" data-testid="save-result" className={result.ok ? "text-sm text-emerald-700" : "text-sm text-red-700"}>{result.ok ? result.message : (result.fields?.ttlDays?.[0] ?? result.message)}</p>}
        </form>
      )}
    </div>
  );
}
