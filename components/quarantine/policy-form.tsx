"use client";

import { useActionState } from "react";
import type { ActionResult } from "@/server/action-result";

/** The tenant admin's review policy: repairs need a second reviewer's countersignature. */
export function ReviewPolicyForm({ action, requireCountersignature }: { action: (prev: unknown, form: FormData) => Promise<ActionResult>; requireCountersignature: boolean }) {
  const [state, submit, pending] = useActionState(action, null);
  return (
    <form action={submit} className="flex items-center gap-3 text-sm" aria-label="Review policy">
      <label className="flex items-center gap-2">
        <input type="checkbox" name="requireCountersignature" defaultChecked={requireCountersignature} />
        Repairs need a second reviewer&apos;s countersignature before the engine applies them
      </label>
      <button disabled={pending} className="rounded border px-2 py-1">Save</button>
      {state && <span role="status" className={state.ok ? "text-emerald-700" : "text-red-700"}>{state.message}</span>}
    </form>
  );
}
