"use client";

import { useActionState } from "react";
import type { ActionResult } from "@/server/action-result";
import { SignatureForm } from "./signature-form";

type Action = (prev: unknown, form: FormData) => Promise<ActionResult>;

export function SpotCheckListForm({ action }: { action: Action }) {
  const [state, submit, pending] = useActionState(action, null);
  return (
    <form action={submit} className="flex flex-wrap items-end gap-2 text-sm" aria-label="Pick studies for a clinical spot-check" data-testid="spot-check-list-form">
      <label>
        <span className="block text-slate-600">Studies</span>
        <input name="count" defaultValue="5" inputMode="numeric" className="w-20 rounded border px-2 py-1" />
      </label>
      <label>
        <span className="block text-slate-600">Seed (optional)</span>
        <input name="seed" className="w-40 rounded border px-2 py-1" />
      </label>
      <button disabled={pending} className="rounded border px-3 py-1.5">Pick studies at random</button>
      {state && <p role={state.ok ? "status" : "alert"} className={state.ok ? "w-full text-emerald-700" : "w-full text-red-700"}>{state.message}</p>}
    </form>
  );
}

/** The reviewer's signature that they looked at the study's images, after a fresh sign-in. */
export function SpotCheckSignForm({ action, meaning, authFresh, reauthHref }: { action: Action; meaning: string; authFresh: boolean; reauthHref: string }) {
  return (
    <SignatureForm action={action} label="Sign the spot-check" testId="spot-check-sign-form" meaning={meaning} submitLabel="Sign as looked at" authFresh={authFresh} reauthHref={reauthHref}>
      <label className="block">
        <span className="text-slate-600">Note (optional: what you looked at, anything odd)</span>
        <textarea name="note" rows={2} className="block w-full rounded border px-2 py-1" />
      </label>
    </SignatureForm>
  );
}
