"use client";

import { useActionState, type ReactNode } from "react";
import type { ActionResult } from "@/server/action-result";

export type SignAction = (prev: unknown, form: FormData) => Promise<ActionResult>;

/**
 * An electronic signature (plan approval, sign-off, spot-check): what it means, then sign after a fresh sign-in,
 * or a link to re-authenticate first. `hidden` are the fields that say what is signed.
 */
export function SignatureForm(props: {
  action: SignAction;
  label: string;
  testId: string;
  meaning: string;
  submitLabel: string;
  pendingLabel?: string;
  authFresh: boolean;
  reauthHref: string;
  hidden?: Record<string, string | number>;
  children?: ReactNode;
}) {
  const [state, submit, pending] = useActionState(props.action, null);
  return (
    <form action={submit} className="space-y-2 text-sm" aria-label={props.label} data-testid={props.testId}>
      {Object.entries(props.hidden ?? {}).map(([k, v]) => <input key={k} type="hidden" name={k} value={v} />)}
      <label className="block">
        <span className="text-slate-600">Meaning of your signature</span>
        <input name="meaning" required defaultValue={props.meaning} className="block w-full rounded border px-2 py-1" />
      </label>
      {props.children}
      {props.authFresh ? (
        <button disabled={pending} className="rounded bg-emerald-700 px-3 py-1.5 text-white disabled:opacity-50">{pending && props.pendingLabel ? props.pendingLabel : props.submitLabel}</button>
      ) : (
        <a href={props.reauthHref} className="inline-block rounded bg-amber-600 px-3 py-1.5 text-white">Re-authenticate to sign</a>
      )}
      {state && (
        <p role={state.ok ? "status" : "alert"} data-testid={`${props.testId}-result`} className={state.ok ? "text-emerald-700" : "text-red-700"}>
          {state.message}
          {!state.ok && state.reauth && <a href={props.reauthHref} className="ml-2 underline">Re-authenticate</a>}
        </p>
      )}
    </form>
  );
}
