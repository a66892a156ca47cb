"use client";

import { useRouter } from "next/navigation";
import { useActionState, useState, useTransition } from "react";
import type { ActionResult } from "@/server/action-result";

export function AddWebhook({ add, events }: { add: (prev: unknown, form: FormData) => Promise<ActionResult<{ id: string; secret: string }>>; events: readonly string[] }) {
  const [state, action, pending] = useActionState(add, null);
  const created = state?.ok ? state.data : undefined;
  return (
    <section className="space-y-2 rounded-lg border border-slate-200 p-4 dark:border-slate-800" aria-label="Add a webhook">
      <h2 className="font-medium">Add a receiver</h2>
      <form action={action} className="flex flex-wrap items-end gap-3">
        <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
          URL
          <input name="url" required className="mt-1 w-96 rounded-md border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-700" />
        </label>
        {events.map((e) => (
          <label key={e} className="flex items-center gap-1 text-sm">
            <input type="checkbox" name={`event:${e}`} defaultChecked /> {e}
          </label>
        ))}
        <button type="submit" disabled={pending} className="rounded-md bg-sky-700 px-3 py-1.5 text-sm text-white disabled:opacity-50">Add</button>
      </form>
      {state && !state.ok && <p role="alert" className="text-sm text-red-700">{state.fields?.url?.[0] ?? state.message}</p>}
      {created && (
        <div className="space-y-1 text-sm" data-testid="webhook-secret-once">
          <p>{state!.message}</p>
          <code className="block rounded bg-slate-100 p-2 dark:bg-slate-900" data-testid="webhook-secret">{created.secret}</code>
          <p className="text-xs text-slate-500">Verify each delivery: HMAC-SHA256 of `{"{x-webhook-timestamp}.{body}"}` with this secret, hex, equals `x-webhook-signature` after `sha256=`; refuse timestamps older than five minutes.</p>
        </div>
      )}
    </section>
  );
}

export function WebhookActions({ test, remove }: { test: () => Promise<ActionResult>; remove: () => Promise<ActionResult> }) {
  const router = useRouter();
  const [pending, start] = useTransition();
  const [result, setResult] = useState<ActionResult | null>(null);
  const run = (fn: () => Promise<ActionResult>) => start(async () => {
    setResult(await fn());
    router.refresh();
  });
  return (
    <span className="flex items-center gap-2 text-xs">
      <button type="button" disabled={pending} onClick={() => run(test)} className="underline">Send test</button>
      <button type="button" disabled={pending} onClick={() => run(remove)} className="text-red-700 underline">Remove</button>
      {result && <span className={result.ok ? "text-slate-500" : "text-red-700"}>{result.message}</span>}
    </span>
  );
}
