"use client";

import { useActionState } from "react";
import type { ActionResult } from "@/server/action-result";
import { MEANING_PRESETS } from "./labels";

export function CountersignForm({ action, authFresh, reauthHref }: { action: (prev: unknown, form: FormData) => Promise<ActionResult>; authFresh: boolean; reauthHref: string }) {
  const [state, submit, pending] = useActionState(action, null);
  return (
    <form action={submit} className="space-y-2 text-sm" aria-label="Countersign the repair">
      <p>A repair of this study waits for a second reviewer&apos;s countersignature before the engine applies it.</p>
      <input name="meaning" required defaultValue={`${MEANING_PRESETS.repair} (countersignature)`} className="block w-full rounded border px-2 py-1" />
      {authFresh ? <button disabled={pending} className="rounded bg-sky-700 px-3 py-1.5 text-white">Countersign</button> : <a href={reauthHref} className="inline-block rounded bg-amber-600 px-3 py-1.5 text-white">Re-authenticate to countersign</a>}
      {state && <p role="status" className={state.ok ? "text-emerald-700" : "text-red-700"}>{state.message}</p>}
    </form>
  );
}
