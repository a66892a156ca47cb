"use client";

import { useActionState, useTransition, useState } from "react";
import type { ActionResult } from "@/server/action-result";

const ROLES = [
  ["tenant_admin", "Tenant admin"],
  ["clinical_reviewer", "Clinical reviewer"],
  ["senior_reviewer", "Senior reviewer"],
  ["migration_operator", "Migration operator"],
] as const;

type Action = (prev: unknown, form: FormData) => Promise<ActionResult>;

export function InviteForm({ action }: { action: Action }) {
  const [state, submit, pending] = useActionState(action, null);
  // Controlled, so a refused invitation keeps what was typed.
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("clinical_reviewer");
  return (
    <form action={submit} className="flex flex-wrap items-end gap-2 text-sm" aria-label="Invite a member" data-testid="invite-form">
      <label>
        <span className="block text-slate-600">E-mail</span>
        <input name="email" value={email} onChange={(e) => setEmail(e.target.value)} className="w-72 rounded border px-2 py-1" />
      </label>
      <label>
        <span className="block text-slate-600">Role</span>
        <select name="role" value={role} onChange={(e) => setRole(e.target.value)} className="rounded border px-2 py-1">
          {ROLES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </select>
      </label>
      <button disabled={pending} className="rounded bg-sky-700 px-3 py-1.5 text-white disabled:opacity-50">Invite</button>
      {state && <p role={state.ok ? "status" : "alert"} data-testid="invite-result" className={state.ok ? "w-full text-emerald-700" : "w-full text-red-700"}>{(!state.ok && state.fields?.email?.[0]) || state.message}</p>}
    </form>
  );
}

/** One member's role, changeable, and removal behind a confirm step. */
export function MemberControls({ role, change, remove }: { role: string; change: Action; remove: () => Promise<ActionResult> }) {
  const [state, submit, pending] = useActionState(change, null);
  const [removing, setRemoving] = useState(false);
  const [result, setResult] = useState<ActionResult | null>(null);
  const [busy, run] = useTransition();
  return (
    <div className="flex flex-wrap items-center gap-2">
      <form action={submit} className="flex items-center gap-1" aria-label="Change role">
        <select name="role" defaultValue={role} aria-label="Role" className="rounded border px-1 py-0.5">
          {ROLES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </select>
        <button disabled={pending} className="rounded border px-2 py-0.5">Change</button>
      </form>
      {!removing ? (
        <button type="button" className="text-red-700 underline" onClick={() => setRemoving(true)}>Remove…</button>
      ) : (
        <button type="button" disabled={busy} className="rounded bg-red-700 px-2 py-0.5 text-white" onClick={() => run(async () => setResult(await remove()))}>Confirm removal</button>
      )}
      {(state ?? result) && <span role="status" data-testid="member-result" className={(state ?? result)!.ok ? "text-emerald-700" : "text-red-700"}>{(state ?? result)!.message}</span>}
    </div>
  );
}
