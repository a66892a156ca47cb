import type { Metadata } from "next";
import { AeTitleList } from "@/components/ae-titles/ae-title-list";
import { PrivateSopClassList } from "@/components/ae-titles/private-sop-class-list";
import { addAeTitleAction, addPrivateSopClassAction, removeAeTitleAction, removePrivateSopClassAction, testAeTitleAction } from "@/server/ae-titles/actions";
import { listAeTitles, listPrivateSopClasses } from "@/server/ae-titles/service";
import { can, rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { getRetention } from "@/server/retention/service";

export const metadata: Metadata = { title: "AE titles" };

export default async function AeTitlesPage({ params }: { params: Promise<{ tenant: string }> }) {
  const ctx = await requireTenantRole((await params).tenant, ...rolesFor("ae-titles.view"));
  const [titles, config, privateSopClasses] = await Promise.all([listAeTitles(ctx), getRetention(ctx), listPrivateSopClasses(ctx)]);
  const canUpdate = can(ctx.roles, "ae-titles.update");
  const slug = ctx.tenantSlug;
  return (
    <div className="max-w-3xl space-y-5">
      <div>
        <h1 className="text-2xl font-semibold">AE titles</h1>
        <p className="text-sm text-slate-600 dark:text-slate-400">
          1 to 16 characters, no backslash or control characters; leading and trailing spaces do not count. Changes reach the engine within seconds
          ({config.applied ? `version ${config.version} applied` : `version ${config.version} pending`}).
        </p>
      </div>
      <AeTitleList
        kind="called"
        title="Called AE titles"
        help="Vendors address results to one of these; each routes to this tenant only."
        titles={titles.called.map((t) => t.aeTitle)}
        canUpdate={canUpdate}
        add={addAeTitleAction.bind(null, slug, "called")}
        remove={removeAeTitleAction.bind(null, slug, "called")}
        test={testAeTitleAction.bind(null, slug)}
      />
      <AeTitleList
        kind="calling"
        title="Allowed vendors (calling AE titles)"
        help="When this list is not empty, only these vendors may send."
        titles={titles.calling.map((t) => t.aeTitle)}
        canUpdate={canUpdate}
        add={addAeTitleAction.bind(null, slug, "calling")}
        remove={removeAeTitleAction.bind(null, slug, "calling")}
      />
      <PrivateSopClassList
        uids={privateSopClasses}
        canUpdate={canUpdate}
        add={addPrivateSopClassAction.bind(null, slug)}
        remove={removePrivateSopClassAction.bind(null, slug)}
      />
    </div>
  );
}
