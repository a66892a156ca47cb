import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { SpotCheckListForm, SpotCheckSignForm } from "@/components/migrations/spot-check-forms";
import { Card } from "@/components/ui/card";
import { formatTime } from "@/components/ui/format";
import { DicomViewer } from "@/components/viewer/dicom-viewer";
import { can, rolesFor } from "@/server/auth/permissions";
import { requireSession, requireTenantRole } from "@/server/auth/session";
import { isRecentAuth, reauthUrl } from "@/server/auth/step-up";
import { authEnv } from "@/server/env";
import { createSpotCheckListAction, signSpotCheckAction } from "@/server/migrations/spot-check-actions";
import { latestSpotCheckList, SPOT_CHECK_MEANING, spotCheckStudy } from "@/server/migrations/spot-check";

export const metadata: Metadata = { title: "Clinical spot-check" };

type Props = { params: Promise<{ tenant: string; id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function SpotCheckPage({ params, searchParams }: Props) {
  const { tenant, id } = await params;
  const ctx = await requireTenantRole(tenant, ...rolesFor("migrations.view"));
  const user = await requireSession();
  if (!/^[0-9a-f-]{36}$/i.test(id)) notFound();
  const wanted = (await searchParams).study;
  const list = await latestSpotCheckList(ctx, id);
  const open = typeof wanted === "string" && list ? await spotCheckStudy(ctx, id, wanted).catch((e: Error) => ({ error: e.message })) : null;
  const here = `/t/${ctx.tenantSlug}/migrations/${id}/spot-check`;
  return (
    <div className="space-y-5">
      <div>
        <Link href={`/t/${ctx.tenantSlug}/migrations/${id}/record`} className="text-sm text-sky-700 underline">← Signed-off record</Link>
        <h1 className="text-2xl font-semibold">Clinical spot-check</h1>
        <p className="text-sm text-slate-500">Studies picked at random from those migrated; a clinical reviewer opens each one as the target holds it now and signs that they looked at it.</p>
      </div>
      {can(ctx.roles, "migrations.approve") && (
        <Card title="Pick a new list">
          <SpotCheckListForm action={createSpotCheckListAction.bind(null, ctx.tenantSlug, id)} />
        </Card>
      )}
      {list ? (
        <Card title={`List of ${formatTime(list.createdAt.toISOString())} by ${list.createdBy} (seed ${list.seed})`}>
          <table className="w-full text-left text-sm" data-testid="spot-check-list">
            <thead className="text-slate-500"><tr><th>Study</th><th>Instances</th><th>Looked at</th></tr></thead>
            <tbody>
              {list.studies.map((s) => (
                <tr key={s.studyInstanceUid} data-testid="spot-check-row" data-study={s.studyInstanceUid} data-done={s.check ? "true" : "false"}>
                  <td className="font-mono text-xs"><Link className="text-sky-700 underline" href={`${here}?study=${encodeURIComponent(s.studyInstanceUid)}`}>{s.studyInstanceUid}</Link></td>
                  <td>{s.instances}</td>
                  <td>{s.check ? `${s.check.signerName}, ${formatTime(s.check.signedAt.toISOString())} (${s.check.instancesSeen} instances seen)` : "not yet"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : (
        <p className="text-sm text-slate-500" data-testid="spot-check-none">No spot-check list yet.</p>
      )}
      {open && "error" in open && <p role="alert" className="text-sm text-red-700">{open.error}</p>}
      {open && !("error" in open) && (
        <Card title={`Study ${open.study.studyInstanceUid} at the target (${open.instances.length} of ${open.study.instances} instances)`}>
          {open.instances.length ? (
            <DicomViewer
              instances={open.instances.map((i, n) => ({ id: i.sopInstanceUid, url: `/api/t/${ctx.tenantSlug}/migrations/${id}/spot-check/instance?study=${encodeURIComponent(open.study.studyInstanceUid)}&sop=${encodeURIComponent(i.sopInstanceUid)}`, label: `${n + 1}` }))}
            />
          ) : (
            <p className="text-sm text-red-700">The target holds no instance of this study now.</p>
          )}
          <div className="mt-3">
            {open.study.check ? (
              <p className="text-sm" data-testid="spot-check-signed">Looked at by {open.study.check.signerName} at {formatTime(open.study.check.signedAt.toISOString())}: “{open.study.check.meaning}”</p>
            ) : can(ctx.roles, "quarantine.decide") && !ctx.grant ? (
              <SpotCheckSignForm action={signSpotCheckAction.bind(null, ctx.tenantSlug, id, open.study.studyInstanceUid)} meaning={SPOT_CHECK_MEANING} authFresh={isRecentAuth(user.authTime, authEnv().AUTH_STEP_UP_MAX_AGE_SECONDS)} reauthHref={reauthUrl(`${here}?study=${encodeURIComponent(open.study.studyInstanceUid)}`)} />
            ) : (
              <p className="text-sm text-slate-500">A clinical reviewer signs this spot-check.</p>
            )}
          </div>
        </Card>
      )}
    </div>
  );
}
