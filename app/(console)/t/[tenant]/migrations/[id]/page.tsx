import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { CheckpointList } from "@/components/migrations/checkpoints";
import { ControlPanel } from "@/components/migrations/control-panel";
import { LaunchPanel } from "@/components/migrations/plan-form-launch";
import { MigrationDashboard } from "@/components/migrations/migration-dashboard";
import { ReportList } from "@/components/migrations/report-list";
import { EngineUnreachable } from "@/components/ui/engine-unreachable";
import { can, rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { tryEngine } from "@/server/engine/client";
import { NotFoundError } from "@/server/errors";
import { generateReportAction, pauseMigrationAction, resumeMigrationAction, rollbackMigrationAction, updateMigrationSettingsAction } from "@/server/migrations/actions";
import { discoverAction, startAction } from "@/server/migrations/plan-form-actions";
import { inventory } from "@/server/migrations/plans";
import { listReports } from "@/server/migrations/reports";
import { migrationCheckpoints, migrationDashboard } from "@/server/migrations/service";

export const metadata: Metadata = { title: "Migration" };

export default async function MigrationPage({ params }: { params: Promise<{ tenant: string; id: string }> }) {
  const { tenant, id } = await params;
  const ctx = await requireTenantRole(tenant, ...rolesFor("migrations.view"));
  if (!/^[0-9a-f-]{36}$/i.test(id)) notFound();
  const data = await tryEngine(() => migrationDashboard(ctx, id).catch((e) => (e instanceof NotFoundError ? null : Promise.reject(e))));
  if (data.ok && !data.value) notFound();
  const control = can(ctx.roles, "migrations.control");
  const reports = data.ok && data.value ? await listReports(ctx, id) : [];
  const checkpoints = data.ok && data.value ? await migrationCheckpoints(ctx, id) : [];
  const operate = can(ctx.roles, "migrations.operate");
  const m = data.ok ? data.value!.migration : null;
  const inv = operate && m && m.status !== "created" && m.status !== "discovering" ? await inventory(ctx, id) : null;
  return (
    <div className="space-y-5">
      <div>
        <Link href={`/t/${ctx.tenantSlug}/migrations`} className="text-sm text-sky-700 underline">← Migrations</Link>
        <h1 className="text-2xl font-semibold">{data.ok ? data.value!.migration.plan.name : "Migration"}</h1>
        {m && (
          <p className="text-sm text-slate-600" data-testid="plan-version">
            Plan version {m.versionInForce ?? "—"} in force{m.pendingVersion ? `, version ${m.pendingVersion} awaiting approval` : ""} ·{" "}
            <Link href={`/t/${ctx.tenantSlug}/migrations/${id}/plan`} className="text-sky-700 underline">versions</Link>
            {m.status === "completed" && (
              <>
                {" "}· <Link href={`/t/${ctx.tenantSlug}/migrations/${id}/record`} className="text-sky-700 underline">signed-off record</Link>
              </>
            )}
          </p>
        )}
        {!control && <p className="text-sm text-slate-500" data-testid="read-only">Read-only: engineers change a migration under a read-write grant.</p>}
      </div>
      {operate && m && (
        <LaunchPanel
          status={m.status}
          discovered={m.counts.discovered}
          discovery={m.discovery ?? null}
          lastError={m.lastError}
          inventory={inv}
          editHref={`/t/${ctx.tenantSlug}/migrations/${id}/plan/edit`}
          versionsHref={`/t/${ctx.tenantSlug}/migrations/${id}/plan`}
          versionInForce={m.versionInForce ?? null}
          pendingVersion={m.pendingVersion ?? null}
          discover={discoverAction.bind(null, ctx.tenantSlug, id)}
          start={startAction.bind(null, ctx.tenantSlug, id)}
        />
      )}
      {!data.ok ? (
        <EngineUnreachable message={data.message} />
      ) : (
        <MigrationDashboard
          slug={ctx.tenantSlug}
          initial={data.value!}
          control={
            control ? (
              <ControlPanel
                status={data.value!.migration.status}
                plan={data.value!.migration.plan}
                pause={pauseMigrationAction.bind(null, ctx.tenantSlug, id)}
                resume={resumeMigrationAction.bind(null, ctx.tenantSlug, id)}
                save={updateMigrationSettingsAction.bind(null, ctx.tenantSlug, id)}
              />
            ) : undefined
          }
          checkpoints={
            <CheckpointList
              checkpoints={checkpoints}
              status={data.value!.migration.status}
              doneNow={data.value!.migration.counts.migrated + data.value!.migration.counts.quarantined + data.value!.migration.counts.skipped}
              rollback={control ? rollbackMigrationAction.bind(null, ctx.tenantSlug, id) : undefined}
            />
          }
        />
      )}
      {data.ok && (
        <ReportList
          slug={ctx.tenantSlug}
          migrationId={id}
          reports={reports.map((r) => ({ id: r.id, kind: r.kind, createdAt: r.createdAt.toISOString(), requestedBy: r.requestedBy }))}
          generate={can(ctx.roles, "migrations.report") ? generateReportAction.bind(null, ctx.tenantSlug, id) : undefined}
        />
      )}
    </div>
  );
}
