import type { Metadata } from "next";
import Link from "next/link";
import { ReviewPolicyForm } from "@/components/quarantine/policy-form";
import { categoryLabel, CATEGORY_LABELS } from "@/components/quarantine/labels";
import { QueueTable } from "@/components/quarantine/queue-table";
import { EngineUnreachable } from "@/components/ui/engine-unreachable";
import { can, rolesFor } from "@/server/auth/permissions";
import { requireSession, requireTenantRole } from "@/server/auth/session";
import { isRecentAuth, reauthUrl } from "@/server/auth/step-up";
import { tryEngine } from "@/server/engine/client";
import { authEnv } from "@/server/env";
import { claimItemAction, decideBatchAction, setReviewPolicyAction } from "@/server/quarantine/actions";
import { getReviewPolicy, listQueue, patternOf, QueueSearch } from "@/server/quarantine/service";

export const metadata: Metadata = { title: "Quarantine review" };

type Props = { params: Promise<{ tenant: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

const STATES = ["open", "new", "escalated", "repairing", "resolved", "skipped"] as const;

export default async function QuarantinePage({ params, searchParams }: Props) {
  const ctx = await requireTenantRole((await params).tenant, ...rolesFor("quarantine.view"));
  const user = await requireSession();
  const search = QueueSearch.parse(await searchParams);
  const page = await tryEngine(() => listQueue(ctx, search));
  const canDecide = can(ctx.roles, "quarantine.decide") && !ctx.grant;
  const base = `/t/${ctx.tenantSlug}/quarantine`;
  const href = (q: Partial<QueueSearch>) => `${base}?${new URLSearchParams(Object.entries({ ...search, cursor: undefined, ...q }).filter(([, v]) => v) as [string, string][])}`;
  return (
    <div className="space-y-5">
      <div>
        <h1 className="text-2xl font-semibold">Quarantine review</h1>
        <p className="text-sm text-slate-600 dark:text-slate-400">
          Studies the migration could not verify or read, oldest first. Each one is adjudicated: repair, skip or escalate, signed.
          {!canDecide && " You can read this queue; clinical reviewers decide."}
        </p>
      </div>
      {can(ctx.roles, "quarantine.policy") && !ctx.grant && <ReviewPolicyForm action={setReviewPolicyAction.bind(null, ctx.tenantSlug)} requireCountersignature={(await getReviewPolicy(ctx)).requireCountersignature} />}
      {!page.ok ? (
        <EngineUnreachable message={page.message} />
      ) : (
        <>
          <nav aria-label="Categories" className="flex flex-wrap gap-2 text-sm" data-testid="category-counts">
            <Link href={href({ category: undefined })} className={!search.category ? "font-semibold underline" : "underline"}>
              All open ({Object.values(page.value.counts).reduce((a, b) => a + b, 0)})
            </Link>
            {Object.keys(CATEGORY_LABELS).map((c) => (
              <Link key={c} href={href({ category: c as QueueSearch["category"] })} className={search.category === c ? "font-semibold underline" : "underline"} data-category={c}>
                {categoryLabel(c)} ({page.value.counts[c] ?? 0})
              </Link>
            ))}
          </nav>
          <nav aria-label="Status" className="flex flex-wrap gap-2 text-sm">
            {STATES.map((s) => (
              <Link key={s} href={href({ state: s })} className={search.state === s ? "font-semibold underline" : "underline"}>
                {s}
              </Link>
            ))}
          </nav>
          <QueueTable
            slug={ctx.tenantSlug}
            canDecide={canDecide}
            claim={claimItemAction.bind(null, ctx.tenantSlug)}
            bulk={decideBatchAction.bind(null, ctx.tenantSlug)}
            reauthHref={reauthUrl(base)}
            authFresh={isRecentAuth(user.authTime, authEnv().AUTH_STEP_UP_MAX_AGE_SECONDS)}
            rows={page.value.items.map((i) => ({
              id: i.id,
              category: i.category,
              reason: i.reason,
              pattern: patternOf(i),
              sourceId: i.sourceId,
              modalities: i.modalities,
              studyDate: i.studyDate,
              quarantinedAt: i.quarantinedAt,
              reviewStatus: i.reviewStatus,
              state: i.state,
              assignee: i.claim?.userName ?? null,
              mine: i.claim?.userId === ctx.actor.userId,
            }))}
          />
          {page.value.nextCursor && <Link href={`${base}?${new URLSearchParams({ ...(search.category ? { category: search.category } : {}), state: search.state, cursor: page.value.nextCursor })}`} className="text-sm underline">Next page →</Link>}
          {page.value.items.length === 0 && <p className="text-sm text-slate-500">Nothing here.</p>}
        </>
      )}
    </div>
  );
}
