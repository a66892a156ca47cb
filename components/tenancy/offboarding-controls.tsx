"use client";

import { useActionState, useState } from "react";
import { GrantButton } from "@/components/break-glass/grant-controls";
import type { ActionResult } from "@/server/action-result";

type FormAction = (prev: unknown, form: FormData) => Promise<ActionResult>;

const utc = (iso: string) => `${iso.replace("T", " ").slice(0, 16)} UTC`;

/**
 * Offboarding a suspended tenant in /ops, in two steps: the request (the slug typed out and a reason; nothing is
 * deleted and it can be cancelled), then, once the wait is over and after a fresh sign-in, the deletion with
 * `delete <slug>` typed out. What was typed stays when a step is refused.
 */
export function OffboardingControls(props: {
  tenantName: string;
  slug: string;
  request: { requestedAt: string; by: string; reason: string; dueAt: string } | null;
  now: string;
  authFresh: boolean;
  reauthHref: string;
  requestAction: FormAction;
  cancelAction: () => Promise<ActionResult>;
  completeAction: FormAction;
}) {
  if (!props.request) return <RequestForm {...props} />;
  const due = props.request.dueAt <= props.now;
  return (
    <div className="max-w-xs space-y-1" data-testid="offboarding-request">
      <p className="text-red-700">
        Offboarding requested by {props.request.by} ({props.request.reason}); {due ? "it can be confirmed now." : `it can be confirmed from ${utc(props.request.dueAt)}.`}
      </p>
      <GrantButton label="Cancel offboarding" run={props.cancelAction} testId="cancel-offboarding" />
      {due && <CompleteForm {...props} />}
    </div>
  );
}

function RequestForm({ tenantName, slug, requestAction }: { tenantName: string; slug: string; requestAction: FormAction }) {
  const [open, setOpen] = useState(false);
  const [fields, setFields] = useState({ confirmSlug: "", reason: "" });
  const [state, submit, pending] = useActionState(requestAction, null);
  if (!open)
    return (
      <div className="space-y-1">
        <button type="button" className="text-red-700 underline" onClick={() => setOpen(true)}>Offboard…</button>
      </div>
    );
  return (
    <form action={submit} className="max-w-xs space-y-1" aria-label={`Offboard ${tenantName}`} data-testid="offboarding-form">
      <p className="text-slate-600 dark:text-slate-400">
        Offboarding deletes {tenantName}&apos;s held results, quarantine evidence, migrations, routers, people, AE titles and
        its data key. Its audit log is kept and can be exported. Nothing is deleted until a second confirmation after the waiting period.
      </p>
      <label className="block">
        <span className="block text-slate-600">Type the slug <span className="font-mono">{slug}</span></span>
        <input name="confirmSlug" required value={fields.confirmSlug} onChange={(e) => setFields({ ...fields, confirmSlug: e.target.value })} className="w-full rounded border px-2 py-1 font-mono" autoComplete="off" />
      </label>
      <label className="block">
        <span className="block text-slate-600">Reason (recorded in both audit logs and with every purged result)</span>
        <input name="reason" required minLength={3} value={fields.reason} onChange={(e) => setFields({ ...fields, reason: e.target.value })} className="w-full rounded border px-2 py-1" />
      </label>
      <div className="flex gap-2">
        <button disabled={pending || fields.confirmSlug.trim() !== slug || fields.reason.trim().length < 3} className="rounded bg-red-700 px-2 py-0.5 text-white disabled:opacity-50">
          Request offboarding
        </button>
        <button type="button" className="underline" onClick={() => setOpen(false)}>Cancel</button>
      </div>
      {state && !state.ok && <p role="alert" data-testid="offboarding-result" className="text-red-700">{state.fields?.confirmSlug?.[0] || state.fields?.reason?.[0] || state.message}</p>}
    </form>
  );
}

function CompleteForm({ slug, authFresh, reauthHref, completeAction }: { slug: string; authFresh: boolean; reauthHref: string; completeAction: FormAction }) {
  const [confirm, setConfirm] = useState("");
  const [state, submit, pending] = useActionState(completeAction, null);
  const phrase = `delete ${slug}`;
  return (
    <form action={submit} className="space-y-1 border-t border-red-200 pt-1" aria-label="Confirm offboarding" data-testid="offboarding-confirm-form">
      <label className="block">
        <span className="block text-slate-600">Type <span className="font-mono">{phrase}</span> to delete the tenant&apos;s data now</span>
        <input name="confirm" required value={confirm} onChange={(e) => setConfirm(e.target.value)} className="w-full rounded border px-2 py-1 font-mono" autoComplete="off" />
      </label>
      {authFresh ? (
        <button disabled={pending || confirm.trim() !== phrase} className="rounded bg-red-700 px-2 py-0.5 text-white disabled:opacity-50">
          {pending ? "Offboarding…" : "Offboard and delete"}
        </button>
      ) : (
        <a href={reauthHref} className="inline-block rounded bg-amber-600 px-2 py-0.5 text-white">Sign in again to confirm</a>
      )}
      {state && (
        <p role={state.ok ? "status" : "alert"} data-testid="offboarding-confirm-result" className={state.ok ? "text-emerald-700" : "text-red-700"}>
          {state.ok ? state.message : state.fields?.confirm?.[0] || state.message}
          {!state.ok && state.reauth && <a href={reauthHref} className="ml-2 underline">Sign in again</a>}
        </p>
      )}
    </form>
  );
}
