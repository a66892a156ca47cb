// The migration half of the admin API: plans (validated and connection-tested) and discovery.
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { EngineDb } from "../store/db";
import type { MigrationRuntime } from "../migration/pipeline";
import type { MigrationRunners } from "../migration/runners";
import { decideStudy, listQuarantine, pauseMigration } from "../migration/review";
import { migrationProgress, verificationReport, verificationReportDocument } from "../migration/progress";
import { lastReconciliation, runReconciliation } from "../migration/reconcile";
import { resolveExportPath } from "../migration/export-target";
import { resolveImportPath } from "../migration/filesystem";
import { claimDiscovery, claimRun, connectionTest, createMigration, discoverMigration, discoveryProgress, getMigration, listMigrations } from "../migration/plans";
import { lastSampleVerification, runSampleVerification } from "../migration/sample-verification";
import { targetStudy } from "../migration/target-view";
import { approvePlanVersion, createPlanVersion, listPlanVersions, notApprovedReason } from "../migration/plan-versions";
import { listCheckpoints, rollbackToCheckpoint } from "../migration/checkpoints";
import { migrationDashboardData } from "../migration/dashboard";
import { resumeMigration, updateSettings } from "../migration/settings";
import { windowOpen } from "../migration/windows";
import { engineEvents } from "../store/schema";
import type { LicenceGate } from "../licence/gate";
import { ApiError, CreateMigrationRequest, Migration, MigrationCheckpointList, MigrationDashboard, MigrationPlan, MigrationReconciliation, MigrationSettings, PlanApprovalRequest, PlanVersion, PlanVersionList, PlanVersionRequest, QuarantinedStudy, ReviewDecision, RollbackRequest, RollbackResult, SampleVerification, SampleVerificationRequest, Uid, VerificationReport } from "./contract";
import { errors, json, SlugParams } from "./route-helpers";

const MigrationParams = SlugParams.extend({ id: z.uuid("not a migration id").meta({ param: { name: "id", in: "path" } }) });

const routes = {
  create: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/migrations",
    security: [{ bearer: [] }],
    request: { params: SlugParams, body: { content: { "application/json": { schema: CreateMigrationRequest } }, required: true } },
    responses: {
      201: json(Migration, "Accepted: every DICOM source and the target answered a C-ECHO; the plan is version 1, awaiting approval"),
      ...errors,
      422: json(ApiError, "A source or the target did not answer; `fields` names which and why"),
    },
  }),
  list: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/migrations",
    security: [{ bearer: [] }],
    request: { params: SlugParams },
    responses: { 200: json(z.object({ migrations: z.array(Migration) }), "The tenant's migrations"), ...errors },
  }),
  get: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/migrations/{id}",
    security: [{ bearer: [] }],
    request: { params: MigrationParams },
    responses: { 200: json(Migration, "The migration"), ...errors, 404: json(ApiError, "No such migration in this tenant") },
  }),
  discover: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/migrations/{id}/discover",
    security: [{ bearer: [] }],
    request: { params: MigrationParams },
    responses: {
      202: json(Migration, "Discovery started; the migration's status goes discovering → ready (or failed, with the reason)"),
      ...errors,
      404: json(ApiError, "No such migration in this tenant"),
      409: json(ApiError, "Discovery is already running, or no plan version is approved yet, or (`licence`) the licence does not allow migration work"),
    },
  }),
  start: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/migrations/{id}/start",
    security: [{ bearer: [] }],
    request: { params: MigrationParams },
    responses: {
      202: json(Migration, "Running: pending studies are extracted, sent, verified at the target and recorded (or quarantined)"),
      ...errors,
      404: json(ApiError, "No such migration in this tenant"),
      409: json(ApiError, "The migration is not ready (discover it first) or already running, or no plan version is approved yet, or (`licence`) the licence does not allow migration work or its TB limit is reached"),
    },
  }),
  updatePlan: createRoute({
    method: "put",
    path: "/v1/tenants/{slug}/migrations/{id}/plan",
    security: [{ bearer: [] }],
    request: { params: MigrationParams, body: { content: { "application/json": { schema: PlanVersionRequest } }, required: true } },
    responses: {
      200: json(Migration, "Saved as the next version; it takes effect once approved (no connection test: that is the form's)"),
      ...errors,
      404: json(ApiError, "No such migration in this tenant"),
      422: json(ApiError, "This engine cannot run the plan as written; `fields` says why"),
    },
  }),
  versions: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/migrations/{id}/versions",
    security: [{ bearer: [] }],
    request: { params: MigrationParams },
    responses: { 200: json(PlanVersionList, "Every plan version, newest first, with its hash, author and approval"), ...errors, 404: json(ApiError, "No such migration in this tenant") },
  }),
  approveVersion: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/migrations/{id}/versions/{n}/approve",
    security: [{ bearer: [] }],
    request: {
      params: MigrationParams.extend({ n: z.coerce.number({ error: "a version number" }).int().min(1, "versions are numbered from 1").meta({ param: { name: "n", in: "path" } }) }),
      body: { content: { "application/json": { schema: PlanApprovalRequest } }, required: true },
    },
    responses: {
      200: json(PlanVersion, "Approved: the version is in force and the runners follow it from their next study"),
      ...errors,
      404: json(ApiError, "No such migration or version"),
      409: json(ApiError, "Superseded or already approved, or the author may not approve their own version (two-person rule)"),
    },
  }),
  progress: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/migrations/{id}/progress",
    security: [{ bearer: [] }],
    request: { params: MigrationParams },
    responses: { 200: json(z.record(z.string(), z.unknown()), "Counts per source, hourly and minute buckets, rate and ETA (the reconciliation is its own call)"), ...errors, 404: json(ApiError, "No such migration") },
  }),
  report: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/migrations/{id}/report",
    security: [{ bearer: [] }],
    request: { params: MigrationParams, query: z.object({ format: z.enum(["json", "csv"], { error: "format is json or csv" }).default("json") }) },
    responses: {
      200: {
        description:
          "The verification report: per instance, the study and SOP instance UIDs, the hashes and when it was verified; in JSON also each migrated study's record and record hash (study-record.ts) and reportSha256 over the whole",
        content: { "application/json": { schema: VerificationReport }, "text/csv": { schema: z.string() } },
      },
      ...errors,
      404: json(ApiError, "No such migration"),
    },
  }),
  reconcile: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/migrations/{id}/reconciliation",
    security: [{ bearer: [] }],
    request: { params: MigrationParams },
    responses: {
      200: json(MigrationReconciliation, "Ran now: the source and the target inventoried again and compared with the engine's records; kept with its time"),
      ...errors,
      404: json(ApiError, "No such migration"),
    },
  }),
  sampleVerify: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/migrations/{id}/sample-verification",
    security: [{ bearer: [] }],
    request: { params: MigrationParams, body: { content: { "application/json": { schema: SampleVerificationRequest } }, required: true } },
    responses: {
      200: json(SampleVerification, "Ran now: a seeded sample of the recorded instances retrieved from the target and hashed again; kept with its seed"),
      ...errors,
      404: json(ApiError, "No such migration"),
      502: json(ApiError, "The target could not be reached to retrieve the sample"),
    },
  }),
  targetStudy: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/migrations/{id}/target-studies/{studyUid}",
    security: [{ bearer: [] }],
    request: { params: MigrationParams.extend({ studyUid: Uid.meta({ param: { name: "studyUid", in: "path" } }) }) },
    responses: {
      200: json(z.object({ studyInstanceUid: z.string(), instances: z.array(z.object({ sopInstanceUid: z.string() })) }), "A migrated study's instances as the target holds them now (retrieved for a spot-check)"),
      ...errors,
      404: json(ApiError, "This migration did not migrate that study"),
      502: json(ApiError, "The target could not be reached"),
    },
  }),
  targetInstance: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/migrations/{id}/target-studies/{studyUid}/instances/{sopUid}",
    security: [{ bearer: [] }],
    request: { params: MigrationParams.extend({ studyUid: Uid.meta({ param: { name: "studyUid", in: "path" } }), sopUid: Uid.meta({ param: { name: "sopUid", in: "path" } }) }) },
    responses: { 200: { description: "The instance's Part 10 bytes (application/dicom) as retrieved from the target" }, ...errors, 404: json(ApiError, "No such instance of a migrated study"), 502: json(ApiError, "The target could not be reached") },
  }),
  sampleVerification: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/migrations/{id}/sample-verification",
    security: [{ bearer: [] }],
    request: { params: MigrationParams },
    responses: { 200: json(SampleVerification, "The last sample re-verification"), ...errors, 404: json(ApiError, "No such migration, or no sample checked yet") },
  }),
  reconciliation: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/migrations/{id}/reconciliation",
    security: [{ bearer: [] }],
    request: { params: MigrationParams },
    responses: { 200: json(MigrationReconciliation, "The last reconciliation run"), ...errors, 404: json(ApiError, "No such migration, or never reconciled") },
  }),
  pause: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/migrations/{id}/pause",
    security: [{ bearer: [] }],
    request: { params: MigrationParams },
    responses: { 200: json(Migration, "Paused: nothing new starts; studies in flight finish"), ...errors, 404: json(ApiError, "No such migration"), 409: json(ApiError, "Not running") },
  }),
  resume: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/migrations/{id}/resume",
    security: [{ bearer: [] }],
    request: { params: MigrationParams },
    responses: { 200: json(Migration, "Running again: studies start at the next window and cap turn"), ...errors, 404: json(ApiError, "No such migration"), 409: json(ApiError, "Not paused, or (`licence`) the licence does not allow migration work") },
  }),
  settings: createRoute({
    method: "patch",
    path: "/v1/tenants/{slug}/migrations/{id}/settings",
    security: [{ bearer: [] }],
    request: { params: MigrationParams, body: { content: { "application/json": { schema: MigrationSettings } }, required: true } },
    responses: { 200: json(Migration, "Changed: runners apply it before their next study; the change is in the event feed"), ...errors, 404: json(ApiError, "No such migration") },
  }),
  dashboard: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/migrations/{id}/dashboard",
    security: [{ bearer: [] }],
    request: {
      params: MigrationParams,
      query: z.object({ since: z.iso.datetime({ offset: true, error: "since is an ISO 8601 instant (a previous answer's asOf)" }).optional() }),
    },
    responses: {
      200: json(MigrationDashboard, "Roll-ups (hourly throughput by source and modality, quarantine depth by category), breakdowns and events; with since, only what changed after it"),
      ...errors,
      404: json(ApiError, "No such migration"),
    },
  }),
  checkpoints: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/migrations/{id}/checkpoints",
    security: [{ bearer: [] }],
    request: { params: MigrationParams },
    responses: { 200: json(MigrationCheckpointList, "Every checkpoint (at each pause, window close and hourly while running), oldest first"), ...errors, 404: json(ApiError, "No such migration") },
  }),
  rollback: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/migrations/{id}/rollback",
    security: [{ bearer: [] }],
    request: { params: MigrationParams, body: { content: { "application/json": { schema: RollbackRequest } }, required: true } },
    responses: {
      200: json(RollbackResult, "Rolled back: the studies completed after the checkpoint are pending again (their earlier outcome kept); the migration is paused"),
      ...errors,
      404: json(ApiError, "No such migration, or the checkpoint is not this migration's"),
      409: json(ApiError, "The migration is not paused or completed, or studies are still in flight"),
    },
  }),
  quarantine: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/migrations/{id}/quarantine",
    security: [{ bearer: [] }],
    request: { params: MigrationParams },
    responses: { 200: json(z.object({ studies: z.array(QuarantinedStudy) }), "Quarantined studies with their evidence"), ...errors, 404: json(ApiError, "No such migration") },
  }),
  decide: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/migrations/{id}/decisions",
    security: [{ bearer: [] }],
    request: { params: MigrationParams, body: { content: { "application/json": { schema: ReviewDecision } }, required: true } },
    responses: {
      200: json(QuarantinedStudy, "Recorded: skip excludes the study; repair sends it back to pending with its patch; escalate keeps it quarantined"),
      ...errors,
      404: json(ApiError, "No such quarantined study in this migration"),
      409: json(ApiError, "A retry of a study quarantined for what it contains (repair or skip it instead)"),
    },
  }),
};

/**
 * What a plan asks of the engine's configuration that is missing, keyed like the plan's fields. Filesystem source
 * paths are resolved in place to the absolute paths the engine will read.
 */
async function planNeeds(plan: z.infer<typeof MigrationPlan>, runtime: MigrationRuntime, slug: string): Promise<Record<string, string[]>> {
  const fields: Record<string, string[]> = {};
  for (const [i, s] of plan.sources.entries()) {
    if (s.kind !== "filesystem") continue;
    const resolved = await resolveImportPath(s.path, runtime.importRoot, slug);
    if ("problem" in resolved) fields[`sources.${i}.path`] = [resolved.problem];
    else s.path = resolved.path;
  }
  if (plan.target.kind === "filesystem") {
    const resolved = await resolveExportPath(plan.target.path, runtime.exportRoot, slug);
    if ("problem" in resolved) fields["target.path"] = [resolved.problem];
    else plan.target.path = resolved.path;
  }
  plan.sources.forEach((s, i) => {
    if (s.kind === "dicom" && s.retrieve === "c-move" && !runtime.moveDestination)
      fields[`sources.${i}.retrieve`] = ["C-MOVE needs ENGINE_MOVE_PORT set on the engine (and the archive sending to ENGINE_MOVE_AE_TITLE there); or use c-get"];
  });
  if (plan.target.kind === "dicom" && plan.target.retrieve === "c-move" && !runtime.moveDestination)
    fields["target.retrieve"] = ["C-MOVE needs ENGINE_MOVE_PORT set on the engine (and the archive sending to ENGINE_MOVE_AE_TITLE there); or use c-get"];
  plan.transforms.forEach((r, i) => {
    if (r.op === "anonymize" && !runtime.pseudonymKey) fields[`transforms.${i}`] = ["the anonymization profile needs ENGINE_PSEUDONYM_KEY set on the engine (32 random bytes, base64)"];
  });
  return fields;
}

type Row = NonNullable<Awaited<ReturnType<typeof getMigration>>>;
const toApi = (m: Row) => ({
  id: m.id,
  tenantSlug: m.tenantSlug,
  status: m.status,
  plan: m.plan as z.infer<typeof MigrationPlan>,
  lastError: m.lastError,
  createdAt: m.createdAt.toISOString(),
  counts: m.counts,
  version: m.version,
  versionInForce: m.versionInForce,
  pendingVersion: m.pendingVersion,
  discovery: discoveryProgress(m.id),
});

export function registerMigrationRoutes(app: OpenAPIHono, opts: { db: EngineDb; log: (m: string) => void; migration?: MigrationRuntime; runners?: MigrationRunners; licence: LicenceGate }) {
  /** Why the licence refuses new migration work now (expired, refused, or the TB limit reached), or null. */
  const unlicensed = async (moves: boolean) => opts.licence.refusal("migration") ?? (moves ? await opts.licence.limitRefusal("migratedTb") : null);

  app.openapi(routes.create, async (c) => {
    const { slug } = c.req.valid("param");
    const { createdBy, ...plan } = c.req.valid("json");
    const unusable = await planNeeds(plan, opts.migration ?? {}, slug);
    if (Object.keys(unusable).length) return c.json({ error: "invalid_plan", message: "Not accepted: this engine cannot run the plan as written.", fields: unusable }, 422);
    const unreachable = await connectionTest(plan);
    if (Object.keys(unreachable).length) {
      const summary = Object.entries(unreachable).map(([k, v]) => `${k}: ${v.join("; ")}`).join(" · ");
      return c.json({ error: "connection_failed", message: `Not accepted: ${summary}`, fields: unreachable }, 422);
    }
    const row = await createMigration(opts.db, slug, plan, createdBy ?? null);
    return c.json(toApi((await getMigration(opts.db, slug, row.id))!), 201);
  });

  app.openapi(routes.list, async (c) => c.json({ migrations: (await listMigrations(opts.db, c.req.valid("param").slug)).map(toApi) }, 200));

  app.openapi(routes.get, async (c) => {
    const { slug, id } = c.req.valid("param");
    const m = await getMigration(opts.db, slug, id);
    if (!m) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    return c.json(toApi(m), 200);
  });

  app.openapi(routes.discover, async (c) => {
    const { slug, id } = c.req.valid("param");
    const m = await getMigration(opts.db, slug, id);
    if (!m) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    const unapproved = await notApprovedReason(opts.db, m, "discovered");
    if (unapproved) return c.json({ error: "not_approved", message: unapproved }, 409);
    const refused = await unlicensed(false);
    if (refused) return c.json({ error: "licence", message: refused }, 409);
    if (!(await claimDiscovery(opts.db, id))) return c.json({ error: "busy", message: "Discovery is already running for this migration." }, 409);
    // Runs in the background: a large archive takes a while; the migration's status and counts show progress.
    void discoverMigration(opts.db, m, opts.log);
    return c.json(toApi({ ...m, status: "discovering" }), 202);
  });

  app.openapi(routes.start, async (c) => {
    const { slug, id } = c.req.valid("param");
    const m = await getMigration(opts.db, slug, id);
    if (!m) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    const unapproved = await notApprovedReason(opts.db, m, "started");
    if (unapproved) return c.json({ error: "not_approved", message: unapproved }, 409);
    const refused = await unlicensed(true);
    if (refused) return c.json({ error: "licence", message: refused }, 409);
    if (!(await claimRun(opts.db, id))) return c.json({ error: "not_ready", message: `The migration is ${m.status}; it starts from ready (after discovery) or paused.` }, 409);
    await opts.db.insert(engineEvents).values({ tenantSlug: slug, type: "migration.started", payload: { migrationId: id, planVersion: m.planVersion } });
    opts.runners?.kick(id);
    return c.json(toApi({ ...m, status: "running" }), 202);
  });

  app.openapi(routes.updatePlan, async (c) => {
    const { slug, id } = c.req.valid("param");
    const { plan, changedBy } = c.req.valid("json");
    if (!(await getMigration(opts.db, slug, id))) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    const unusable = await planNeeds(plan, opts.migration ?? {}, slug);
    if (Object.keys(unusable).length) return c.json({ error: "invalid_plan", message: "Not saved: this engine cannot run the plan as written.", fields: unusable }, 422);
    if (!(await createPlanVersion(opts.db, slug, id, plan, changedBy))) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    return c.json(toApi((await getMigration(opts.db, slug, id))!), 200);
  });

  app.openapi(routes.versions, async (c) => {
    const { slug, id } = c.req.valid("param");
    const list = await listPlanVersions(opts.db, slug, id);
    if (!list) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    return c.json(list, 200);
  });

  app.openapi(routes.approveVersion, async (c) => {
    const { slug, id, n } = c.req.valid("param");
    const r = await approvePlanVersion(opts.db, slug, id, n, c.req.valid("json"));
    if (!r.ok) return r.status === 404 ? c.json({ error: r.code, message: r.message }, 404) : c.json({ error: r.code, message: r.message }, 409);
    // A running migration's runners pick the approved plan up before their next study; a paused one when resumed.
    return c.json(r.version, 200);
  });

  app.openapi(routes.progress, async (c) => {
    const { slug, id } = c.req.valid("param");
    if (!(await getMigration(opts.db, slug, id))) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    return c.json(await migrationProgress(opts.db, id), 200);
  });

  app.openapi(routes.reconcile, async (c) => {
    const { slug, id } = c.req.valid("param");
    const m = await getMigration(opts.db, slug, id);
    if (!m) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    return c.json(await runReconciliation(opts.db, m), 200);
  });

  app.openapi(routes.sampleVerify, async (c) => {
    const { slug, id } = c.req.valid("param");
    const m = await getMigration(opts.db, slug, id);
    if (!m) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    try {
      return c.json(await runSampleVerification(opts.db, m, c.req.valid("json"), opts.migration ?? {}), 200);
    } catch (e) {
      return c.json({ error: "target_unreachable", message: `The sample could not be retrieved from the target: ${e instanceof Error ? e.message : String(e)}` }, 502);
    }
  });

  const atTarget = async (slug: string, id: string, studyUid: string) => {
    const m = await getMigration(opts.db, slug, id);
    return m ? targetStudy(opts.db, m, studyUid, opts.migration ?? {}) : null;
  };
  const unreachable = (e: unknown) => ({ error: "target_unreachable", message: `The study could not be retrieved from the target: ${e instanceof Error ? e.message : String(e)}` });

  app.openapi(routes.targetStudy, async (c) => {
    const { slug, id, studyUid } = c.req.valid("param");
    try {
      const s = await atTarget(slug, id, studyUid);
      if (!s) return c.json({ error: "not_found", message: "This migration did not migrate that study." }, 404);
      return c.json({ studyInstanceUid: studyUid, instances: [...s.files.keys()].sort().map((sopInstanceUid) => ({ sopInstanceUid })) }, 200);
    } catch (e) {
      return c.json(unreachable(e), 502);
    }
  });

  app.openapi(routes.targetInstance, async (c) => {
    const { slug, id, studyUid, sopUid } = c.req.valid("param");
    try {
      const file = (await atTarget(slug, id, studyUid))?.files.get(sopUid);
      if (!file) return c.json({ error: "not_found", message: "No such instance of a study this migration migrated." }, 404);
      const bytes = await readFile(file);
      return c.body(new Uint8Array(bytes), 200, { "content-type": "application/dicom", "content-length": String(bytes.length) });
    } catch (e) {
      return c.json(unreachable(e), 502);
    }
  });

  app.openapi(routes.sampleVerification, async (c) => {
    const { slug, id } = c.req.valid("param");
    const m = await getMigration(opts.db, slug, id);
    if (!m) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    const last = await lastSampleVerification(opts.db, m);
    if (!last) return c.json({ error: "not_found", message: "No sample of this migration was re-verified yet: POST to run one." }, 404);
    return c.json(last, 200);
  });

  app.openapi(routes.reconciliation, async (c) => {
    const { slug, id } = c.req.valid("param");
    const m = await getMigration(opts.db, slug, id);
    if (!m) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    const last = await lastReconciliation(opts.db, m);
    if (!last) return c.json({ error: "not_found", message: "This migration has not been reconciled yet: POST to run it." }, 404);
    return c.json(last, 200);
  });

  app.openapi(routes.report, async (c) => {
    const { slug, id } = c.req.valid("param");
    const m = await getMigration(opts.db, slug, id);
    if (!m) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    if (c.req.valid("query").format === "json") return c.json(await verificationReportDocument(opts.db, m), 200);
    const rows = await verificationReport(opts.db, id);
    const columns = ["studyInstanceUid", "sopInstanceUid", "targetStudyInstanceUid", "targetSopInstanceUid", "sopClassUid", "sizeBytes", "sourceSha256", "expectedSha256", "targetSha256"] as const;
    const header = [...columns.map((c) => c.replace(/[A-Z]/g, (w) => `_${w.toLowerCase()}`)), "verified_at"].join(",");
    const csv = [header, ...rows.map((r) => [...columns.map((c) => r[c]), r.verifiedAt.toISOString()].join(","))].join("\r\n");
    return c.body(`${csv}\r\n`, 200, { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="migration-${id}-verification.csv"` });
  });

  app.openapi(routes.pause, async (c) => {
    const { slug, id } = c.req.valid("param");
    if (!(await getMigration(opts.db, slug, id))) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    if (!(await pauseMigration(opts.db, slug, id))) return c.json({ error: "not_running", message: "Only a running migration can be paused." }, 409);
    return c.json(toApi((await getMigration(opts.db, slug, id))!), 200);
  });

  app.openapi(routes.resume, async (c) => {
    const { slug, id } = c.req.valid("param");
    if (!(await getMigration(opts.db, slug, id))) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    const refused = await unlicensed(true);
    if (refused) return c.json({ error: "licence", message: refused }, 409);
    if (!(await resumeMigration(opts.db, slug, id))) return c.json({ error: "not_paused", message: "Only a paused migration can be resumed." }, 409);
    opts.runners?.kick(id);
    return c.json(toApi((await getMigration(opts.db, slug, id))!), 200);
  });

  app.openapi(routes.settings, async (c) => {
    const { slug, id } = c.req.valid("param");
    if (!(await updateSettings(opts.db, slug, id, c.req.valid("json")))) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    return c.json(toApi((await getMigration(opts.db, slug, id))!), 200);
  });

  app.openapi(routes.dashboard, async (c) => {
    const { slug, id } = c.req.valid("param");
    const m = await getMigration(opts.db, slug, id);
    if (!m) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    const since = c.req.valid("query").since;
    const data = await migrationDashboardData(opts.db, id, since ? new Date(since) : null);
    return c.json({ migration: toApi(m), windowOpenNow: windowOpen((m.plan as z.infer<typeof MigrationPlan>).windows, new Date()), ...data }, 200);
  });

  app.openapi(routes.checkpoints, async (c) => {
    const { slug, id } = c.req.valid("param");
    const checkpoints = await listCheckpoints(opts.db, slug, id);
    if (!checkpoints) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    return c.json({ checkpoints }, 200);
  });

  app.openapi(routes.rollback, async (c) => {
    const { slug, id } = c.req.valid("param");
    const r = await rollbackToCheckpoint(opts.db, slug, id, c.req.valid("json"));
    if (!r.ok) return r.status === 404 ? c.json({ error: r.code, message: r.message }, 404) : c.json({ error: r.code, message: r.message }, 409);
    // Left paused: a person resumes it, and the runners redo the studies then.
    return c.json({ migration: toApi((await getMigration(opts.db, slug, id))!), checkpoint: r.checkpoint, studies: r.studies }, 200);
  });

  app.openapi(routes.quarantine, async (c) => {
    const { slug, id } = c.req.valid("param");
    if (!(await getMigration(opts.db, slug, id))) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    return c.json({ studies: await listQuarantine(opts.db, id) }, 200);
  });

  app.openapi(routes.decide, async (c) => {
    const { slug, id } = c.req.valid("param");
    const m = await getMigration(opts.db, slug, id);
    if (!m) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    const decided = await decideStudy(opts.db, m, c.req.valid("json"));
    if (!decided) return c.json({ error: "not_found", message: "That study is not quarantined in this migration." }, 404);
    if (!decided.ok) return c.json({ error: "not_retryable", message: decided.refused }, 409);
    if (c.req.valid("json").decision !== "skip" && c.req.valid("json").decision !== "escalate") opts.runners?.kick(m.id);
    return c.json(decided.study, 200);
  });
}

