import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ApprovalPolicyForm, ApproveForm } from "@/components/migrations/approval-forms";
import { CompareVersions, PlanVersions } from "@/components/migrations/plan-versions";
import { Card } from "@/components/ui/card";
import { EngineUnreachable } from "@/components/ui/engine-unreachable";
import { can, rolesFor } from "@/server/auth/permissions";
import { requireSession, requireTenantRole } from "@/server/auth/session";
import { isRecentAuth, reauthUrl } from "@/server/auth/step-up";
import { tryEngine } from "@/server/engine/client";
import { authEnv } from "@/server/env";
import { NotFoundError } from "@/server/errors";
import { approveVersionAction, setApprovalPolicyAction } from "@/server/migrations/approval-actions";
import { APPROVAL_MEANING, planVersions } from "@/server/migrations/approval";

export const metadata: Metadata = { title: "Migration plan versions" };

type Props = { params: Promise<{ tenant: string; id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function PlanVersionsPage({ params, searchParams }: Props) {
  const { tenant, id } = await params;
  const sp = await searchParams;
  const ctx = await requireTenantRole(tenant, ...rolesFor("migrations.view"));
  const user = await requireSession();
  if (!/^[0-9a-f-]{36}$/i.test(id)) notFound();
  const data = await tryEngine(() => planVersions(ctx, id).catch((e) => (e instanceof NotFoundError ? null : Promise.reject(e))));
  if (data.ok && !data.value) notFound();
  const here = `/t/${ctx.tenantSlug}/migrations/${id}/plan`;
  const pending = data.ok ? data.value!.versions.find((v) => v.state === "pending") : undefined;
  const ownVersion = pending?.author?.userId === user.id;
  const mayApprove = can(ctx.roles, "migrations.approve") && !(ownVersion && data.ok && data.value!.policy.requireSecondPerson);
  return (
    <div className="space-y-5">
      <div>
        <Link href={`/t/${ctx.tenantSlug}/migrations/${id}`} className="text-sm text-sky-700 underline">← Migration</Link>
        <h1 className="text-2xl font-semibold">Plan versions</h1>
        <p className="text-sm text-slate-500">Each save is a new numbered version with its SHA-256; the engine runs only a version someone approved with an e-signature.</p>
      </div>
      {!data.ok ? (
        <EngineUnreachable message={data.message} />
      ) : (
        <>
          <p className="text-sm" data-testid="version-in-force">
            {data.value!.versionInForce ? `Version ${data.value!.versionInForce} is in force.` : "No version is approved yet: nothing is discovered or migrated."}
            {data.value!.policy.requireSecondPerson ? " Policy: a version is approved by someone other than its author." : " Policy: the author may approve their own version."}
          </p>
          {can(ctx.roles, "migrations.policy") && !ctx.grant && <ApprovalPolicyForm action={setApprovalPolicyAction.bind(null, ctx.tenantSlug)} requireSecondPerson={data.value!.policy.requireSecondPerson} />}
          {pending && (
            <Card title={`Version ${pending.version} awaits approval`}>
              {mayApprove ? (
                <ApproveForm
                  action={approveVersionAction.bind(null, ctx.tenantSlug, id)}
                  version={pending.version}
                  planSha256={pending.planSha256}
                  meaning={APPROVAL_MEANING}
                  authFresh={isRecentAuth(user.authTime, authEnv().AUTH_STEP_UP_MAX_AGE_SECONDS)}
                  reauthHref={reauthUrl(here)}
                />
              ) : (
                <p className="text-sm text-slate-500" data-testid="approve-unavailable">
                  {ownVersion && can(ctx.roles, "migrations.approve") ? "You wrote this version: a second person approves it." : "A migration lead or the tenant admin approves it."}
                </p>
              )}
            </Card>
          )}
          <CompareVersions versions={data.value!.versions} from={Number(sp.from)} to={Number(sp.to)} />
          <PlanVersions versions={data.value!.versions} />
        </>
      )}
    </div>
  );
}
