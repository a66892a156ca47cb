"use client";

import { useState, useTransition } from "react";
import type { CheckpointResult, VerifyResult } from "@/server/audit/actions";

/** Verify and Sign-checkpoint buttons; the server actions arrive bound to the chain. */
export function AuditControls({ verify, checkpoint }: { verify: () => Promise<VerifyResult>; checkpoint?: () => Promise<CheckpointResult> }) {
  const [result, setResult] = useState<VerifyResult | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [pending, start] = useTransition();
  const run = (fn: () => Promise<void>) =>
    start(async () => {
      setMessage(null);
      try {
        await fn();
      } catch {
        setMessage("That did not work. Reload the page and try again.");
      }
    });
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap gap-2">
        <button
          type="button"
          disabled={pending}
          onClick={() => run(async () => setResult(await verify()))}
          className="rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-800 disabled:opacity-50"
        >
          {pending ? "Working…" : "Verify chain"}
        </button>
        {checkpoint && (
          <button
            type="button"
            disabled={pending}
            onClick={() =>
              run(async () => {
                const r = await checkpoint();
                setMessage(r.ok ? (r.seq ? `Signed a checkpoint at seq ${r.seq}.` : "The head is already signed.") : r.message);
              })
            }
            className="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 disabled:opacity-50 dark:border-slate-700 dark:hover:bg-slate-800"
          >
            Sign checkpoint now
          </button>
        )}
      </div>
      {result && (
        <div role="status" data-testid="verify-result" className={result.ok ? "text-sm text-emerald-700 dark:text-emerald-400" : "text-sm text-red-700 dark:text-red-400"}>
          {result.ok
            ? `Verified: ${result.entries} entries up to seq ${result.lastSeq ?? 0}, ${result.checkpoints} signed checkpoints, every link intact.`
            : `Broken${result.firstProblem?.seq ? ` at seq ${result.firstProblem.seq}` : ""}: ${result.firstProblem?.problem}`}
        </div>
      )}
      {message && <p role="status" className="text-sm text-slate-600 dark:text-slate-400">{message}</p>}
    </div>
  );
}
