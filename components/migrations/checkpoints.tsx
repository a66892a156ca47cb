"use client";

import { useRouter } from "next/navigation";
import { useActionState, useEffect, useState } from "react";
import type { MigrationCheckpoint } from "@/engine/api/contract";
import type { ActionResult } from "@/server/action-result";
import { when } from "./charts";

type Props = {
  checkpoints: MigrationCheckpoint[];
  status: string;
  /** studies done now (migrated, quarantined, skipped): what a rollback would put back is the difference */
  doneNow: number;
  /** only for holders of migrations.control */
  rollback?: (prev: unknown, form: FormData) => Promise<ActionResult>;
};

const REASONS: Record<MigrationCheckpoint["reason"], string> = { pause: "paused", window_close: "window closed", hourly: "hourly" };
const doneAt = (c: MigrationCheckpoint) => c.counts.migrated + c.counts.quarantined + c.counts.skipped;

/**
 * The migration's checkpoints (at every pause, window close and hourly while it runs) and, for engineers, a rollback
 * to one: a reason is required and a second step confirms it, since every study completed after it is redone.
 */
export function CheckpointList({ checkpoints, status, doneNow, rollback }: Props) {
  const [open, setOpen] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [state, action, pending] = useActionState(async (prev: unknown, form: FormData) => (rollback ? rollback(prev, form) : null), null);
  const router = useRouter();
  const stopped = status === "paused" || status === "completed";
  // The list and the counts changed: read them again.
  useEffect(() => {
    if (state?.ok) {
      setOpen(null);
      setConfirming(false);
      router.refresh();
    }
  }, [state, router]);
  return (
    <section className="space-y-2 rounded-lg border border-slate-200 p-4 dark:border-slate-800" aria-label="Checkpoints" data-testid="checkpoints">
      <h2 className="text-sm font-medium text-slate-600 dark:text-slate-400">Checkpoints</h2>
      {checkpoints.length === 0 ? (
        <p className="text-sm text-slate-500">None yet: one is taken at every pause, when a window closes and hourly while the migration runs.</p>
      ) : (
        <table className="w-full text-left text-sm">
          <thead className="text-slate-500">
            <tr><th>#</th><th>Taken (UTC)</th><th>Why</th><th>Migrated</th><th>Quarantined</th><th>Skipped</th><th>Pending</th>{rollback && <th />}</tr>
          </thead>
          <tbody>
            {[...checkpoints].reverse().map((c) => (
              <tr key={c.id} data-testid="checkpoint" className="align-top">
                <td>{c.seq}</td>
                <td>{when(Date.parse(c.takenAt))}</td>
                <td>{REASONS[c.reason]}</td>
                <td>{c.counts.migrated}</td>
                <td>{c.counts.quarantined}</td>
                <td>{c.counts.skipped}</td>
                <td>{c.counts.pending}</td>
                {rollback && (
                  <td>
                    {open !== c.id ? (
                      <button type="button" className="text-sky-700 underline disabled:text-slate-400 disabled:no-underline" disabled={!stopped} title={stopped ? undefined : "Pause the migration first"} onClick={() => (setOpen(c.id), setConfirming(false))}>
                        Roll back to here…
                      </button>
                    ) : (
                      <form action={action} className="space-y-1" aria-label={`Roll back to checkpoint ${c.seq}`}>
                        <input type="hidden" name="checkpointId" value={c.id} />
                        <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
                          Reason (kept in the audit trail)
                          <textarea name="reason" required minLength={3} rows={2} className="mt-1 w-64 rounded-md border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-700" />
                        </label>
                        {!confirming ? (
                          <button type="button" className="rounded-md bg-amber-600 px-3 py-1 text-sm text-white" onClick={() => setConfirming(true)}>Roll back…</button>
                        ) : (
                          <div className="space-y-1">
                            <p className="text-xs text-amber-800" role="status">
                              About {Math.max(0, doneNow - doneAt(c))} studies completed after this checkpoint go back to pending and are sent and verified again; the migration stays paused until resumed.
                            </p>
                            <button type="submit" disabled={pending} className="rounded-md bg-red-700 px-3 py-1 text-sm text-white disabled:opacity-50">Confirm rollback</button>
                          </div>
                        )}
                        <button type="button" className="ml-2 text-xs underline" onClick={() => setOpen(null)}>cancel</button>
                      </form>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rollback && !stopped && checkpoints.length > 0 && <p className="text-xs text-slate-500">A rollback needs the migration paused (with nothing in flight) or completed.</p>}
      {state && (
        <p role={state.ok ? "status" : "alert"} className={state.ok ? "text-sm text-slate-600" : "text-sm text-red-700"} data-testid="rollback-result">
          {state.ok ? state.message : (state.fields?.reason?.[0] ?? state.message)}
        </p>
      )}
    </section>
  );
}
