"use client";

import { useActionState } from "react";
import type { ActionResult } from "@/server/action-result";
import { SignatureForm } from "./signature-form";

type Action = (prev: unknown, form: FormData) => Promise<ActionResult>;

/** The e-signature on one plan version: what it means, then approve (after a fresh sign-in). */
export function ApproveForm({ action, version, planSha256, meaning, authFresh, reauthHref }: { action: Action; version: number; planSha256: string; meaning: string; authFresh: boolean; reauthHref: string }) {
  return <SignatureForm action={action} label={`Approve version ${version}`} testId="approve-form" hidden={{ version, planSha256 }} meaning={meaning} submitLabel={`Sign and approve version ${version}`} authFresh={authFresh} reauthHref={reauthHref} />;
}

export function ApprovalPolicyForm({ action, requireSecondPerson }: { action: Action; requireSecondPerson: boolean }) {
  const [state, submit, pending] = useActionState(action, null);
  return (
    <form action={submit} className="flex items-center gap-3 text-sm" aria-label="Approval policy">
      <label className="flex items-center gap-2">
        <input type="checkbox" name="requireSecondPerson" defaultChecked={requireSecondPerson} />
        A plan version is approved by someone other than its author
      </label>
      <button disabled={pending} className="rounded border px-2 py-1">Save</button>
      {state && <span role="status" className={state.ok ? "text-emerald-700" : "text-red-700"}>{state.message}</span>}
    </form>
  );
}

/** Signing off a completed migration: the engine reconciles again first and the console refuses an unbalanced one. */
export function SignoffForm({ action, meaning, authFresh, reauthHref }: { action: Action; meaning: string; authFresh: boolean; reauthHref: string }) {
  return <SignatureForm action={action} label="Sign off the migration" testId="signoff-form" meaning={meaning} submitLabel="Reconcile and sign off" pendingLabel="Reconciling…" authFresh={authFresh} reauthHref={reauthHref} />;
}

/** A random-sample re-verification: how many instances, and a seed to pick the same ones again (random if empty). */
export function SampleForm({ action }: { action: Action }) {
  const [state, submit, pending] = useActionState(action, null);
  return (
    <form action={submit} className="flex flex-wrap items-end gap-2 text-sm" aria-label="Re-verify a random sample" data-testid="sample-form">
      <label>
        <span className="block text-slate-600">Instances</span>
        <input name="sample" defaultValue="20" inputMode="numeric" className="w-20 rounded border px-2 py-1" />
      </label>
      <label>
        <span className="block text-slate-600">Seed (optional)</span>
        <input name="seed" className="w-40 rounded border px-2 py-1" />
      </label>
      <button disabled={pending} className="rounded border px-3 py-1.5">{pending ? "Retrieving from the target…" : "Re-verify a sample"}</button>
      {state && <p role={state.ok ? "status" : "alert"} data-testid="sample-result" className={state.ok ? "w-full text-emerald-700" : "w-full text-red-700"}>{state.message}</p>}
    </form>
  );
}
