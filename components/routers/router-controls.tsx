"use client";

import { useActionState, useState, useTransition } from "react";
import type { ActionResult } from "@/server/action-result";
import type { EnrollmentBundle } from "@/server/routers/actions";

/**
 * Enroll a router: a one-time code, shown once, with the bundle (gateway URL, CA, code) as a download. The router
 * makes its own key on first start; nothing secret but the code leaves the console.
 */
export function EnrollRouter({ enroll }: { enroll: (prev: unknown, form: FormData) => Promise<ActionResult<EnrollmentBundle>> }) {
  const [state, action, pending] = useActionState(enroll, null);
  const [name, setName] = useState("");
  const [aeTitles, setAeTitles] = useState("");
  const bundle = state?.ok ? (state.data as EnrollmentBundle | undefined) : undefined;
  const href = bundle ? `data:application/json;charset=utf-8,${encodeURIComponent(bundle.bundle)}` : undefined;
  return (
    <section className="space-y-2 rounded-lg border border-slate-200 p-4 dark:border-slate-800" aria-label="Enroll a router">
      <h2 className="font-medium">Enroll a router</h2>
      <form action={action} className="flex flex-wrap items-end gap-2">
        <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
          Name (site or host)
          <input name="name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} className="mt-1 rounded-md border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-700" />
        </label>
        <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
          Only these called AE titles (optional)
          <input name="calledAeTitles" value={aeTitles} onChange={(e) => setAeTitles(e.target.value)} placeholder="all" maxLength={900} className="mt-1 rounded-md border border-slate-300 bg-transparent px-2 py-1 font-mono text-sm dark:border-slate-700" />
        </label>
        <button type="submit" disabled={pending} className="rounded-md bg-sky-700 px-3 py-1.5 text-sm text-white disabled:opacity-50">Enroll</button>
      </form>
      {state && !state.ok && <p role="alert" className="text-sm text-red-700">{state.fields?.name?.[0] ?? state.fields?.calledAeTitles?.[0] ?? state.message}</p>}
      {bundle && (
        <div className="space-y-2 text-sm" data-testid="enrollment">
          <p>{state!.message}</p>
          <p>
            Code: <code className="rounded bg-slate-100 px-1 font-mono text-base dark:bg-slate-900" data-testid="enrolment-code">{bundle.code}</code>
          </p>
          <a href={href} download={bundle.fileName} className="inline-block rounded-md bg-emerald-700 px-3 py-1.5 text-white" data-testid="bundle-download">Download {bundle.fileName}</a>
          <p>Then start the router agent next to the PACS with:</p>
          <pre className="overflow-x-auto rounded bg-slate-100 p-2 text-xs dark:bg-slate-900" data-testid="agent-command">{bundle.command}</pre>
        </div>
      )}
    </section>
  );
}

export function RevokeRouter({ name, revoke }: { name: string; revoke: () => Promise<ActionResult> }) {
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<ActionResult | null>(null);
  const [pending, start] = useTransition();
  if (result?.ok) return <span className="text-xs text-slate-500">{result.message}</span>;
  return confirming ? (
    <span className="flex items-center gap-2 text-xs">
      Revoke {name}?
      <button type="button" disabled={pending} onClick={() => start(async () => setResult(await revoke()))} className="rounded bg-red-700 px-2 py-0.5 text-white">Revoke</button>
      <button type="button" onClick={() => setConfirming(false)} className="underline">Cancel</button>
      {result && !result.ok && <span className="text-red-700">{result.message}</span>}
    </span>
  ) : (
    <button type="button" onClick={() => setConfirming(true)} className="text-xs text-red-700 underline">Revoke…</button>
  );
}
