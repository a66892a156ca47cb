import type { Metadata } from "next";
import { HoldQueueFilters } from "@/components/hold-queue/filters";
import { HoldQueueTable } from "@/components/hold-queue/hold-queue-table";
import { EngineUnreachable } from "@/components/ui/engine-unreachable";
import { rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { tryEngine } from "@/server/engine/client";
import { listHoldQueue, parseHoldQueueSearch } from "@/server/hold-queue/service";

export const metadata: Metadata = { title: "Hold queue" };

type Props = { params: Promise<{ tenant: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function HoldQueuePage({ params, searchParams }: Props) {
  const ctx = await requireTenantRole((await params).tenant, ...rolesFor("hold-queue.view"));
  const { search, raw, errors } = parseHoldQueueSearch(await searchParams);
  const page = await tryEngine(() => listHoldQueue(ctx, search));
  const query = new URLSearchParams(raw).toString();
  return (
    <div className="space-y-5">
      <div>
        <h1 className="text-2xl font-semibold">Hold queue</h1>
        <p className="text-sm text-slate-600 dark:text-slate-400">Results vendors sent, waiting for your router to pull them. New ones appear here within seconds.</p>
      </div>
      <HoldQueueFilters slug={ctx.tenantSlug} raw={raw} />
      {errors.length > 0 && (
        <ul data-testid="filter-errors" className="text-sm text-red-700 dark:text-red-400">{errors.map((e) => <li key={e}>{e}</li>)}</ul>
      )}
      {page.ok ? <HoldQueueTable slug={ctx.tenantSlug} query={query} initial={page.value} live={!search.cursor} /> : <EngineUnreachable message={page.message} />}
    </div>
  );
}
