import type { Metadata } from "next";
import Link from "next/link";
import { GrantButton } from "@/components/break-glass/grant-controls";
import { confirmGrantAction } from "@/server/break-glass/actions";
import { readDraft } from "@/server/break-glass/draft";
import { reauthUrl } from "@/server/auth/step-up";

export const metadata: Metadata = { title: "Confirm break-glass access" };

/** After the step-up sign-in: the sealed request, and the button that opens it. */
export default async function ConfirmGrantPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const token = (await searchParams).draft ?? "";
  const { draft, steppedUp } = await readDraft(token);
  if (!draft) {
    return (
      <div className="max-w-xl space-y-3">
        <h1 className="text-2xl font-semibold">Request expired</h1>
        <p className="text-sm">This request has expired or is not yours. <Link className="underline" href="/ops">Start again</Link>.</p>
      </div>
    );
  }
  const r = draft.request;
  return (
    <div className="max-w-xl space-y-4">
      <h1 className="text-2xl font-semibold">Open break-glass access</h1>
      <dl className="grid grid-cols-[9rem_1fr] gap-y-1 text-sm">
        <dt className="text-slate-500">Tenant</dt><dd data-testid="confirm-tenant">{r.tenant}</dd>
        <dt className="text-slate-500">Scope</dt><dd>{r.scope === "read_only" ? "read-only" : "read-write"}</dd>
        <dt className="text-slate-500">Duration</dt><dd>{r.durationMinutes} minutes</dd>
        <dt className="text-slate-500">Ticket</dt><dd>{r.ticket}</dd>
        <dt className="text-slate-500">Justification</dt><dd>{r.justification}</dd>
      </dl>
      {steppedUp ? (
        <GrantButton label="Open access" tone="danger" testId="open-access" run={confirmGrantAction.bind(null, token)} />
      ) : (
        <p className="text-sm">
          You have not signed in again since making this request. <Link className="underline" href={reauthUrl(`/ops/break-glass/confirm?draft=${encodeURIComponent(token)}`)}>Confirm it&apos;s you</Link>.
        </p>
      )}
    </div>
  );
}
