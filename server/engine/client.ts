import "server-only";
import { z } from "zod";
import {
  OffboardReceipt,
  OffboardRequest,
  ApiError,
  AppliedTenantConfig,
  RouterEnrolment,
  EnrollRouterRequest,
  EventFeed,
  EvidenceDiff,
  EvidenceHeader,
  Health,
  ItemDecision,
  LicenceStatus,
  QuarantineDetail,
  QuarantineItem,
  QuarantinePage,
  Migration,
  MigrationCheckpointList,
  MigrationDashboard,
  MigrationReconciliation,
  MigrationSettings,
  PurgeRequest,
  ResultDetail,
  RollbackRequest,
  RollbackResult,
  ResultPage,
  RetentionPreview,
  RouterInfo,
  RouterList,
  TenantConfig,
  ConnectionTestRequest,
  ConnectionTestResult,
  MigrationInventory,
  MigrationPlan,
  CreateMigrationRequest,
  SampleVerification,
  SampleVerificationRequest,
  PlanApprovalRequest,
  PlanAuthor,
  PlanVersion,
  PlanVersionList,
  PlanVersionRequest,
  TransformPreview,
  TransformPreviewRequest,
} from "@/engine/api/contract";
import { engineEnv } from "../env";

/** The parts of the engine's progress answer the console uses (the reconciliation). */
const MigrationProgress = z.object({
  sources: z.array(z.object({ source: z.string(), discovered: z.number(), pending: z.number(), inFlight: z.number(), migrated: z.number(), quarantined: z.number(), skipped: z.number() })),
  reconciliation: z.object({
    discovered: z.number(),
    migrated: z.number(),
    quarantined: z.record(z.string(), z.number()),
    skipped: z.number(),
    remaining: z.number(),
    outstanding: z.array(z.string()),
  }),
});
export type MigrationProgress = z.infer<typeof MigrationProgress>;

/** The engine answered with an error (4xx/5xx); `code` and `fields` come from its ApiError body. */
export class EngineError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string[]>,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

/** The engine could not be reached at all (down, wrong URL, timeout). */
export class EngineUnavailableError extends Error {
  constructor(url: string, cause: unknown) {
    super(`The engine at ${url} is unreachable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "EngineUnavailableError";
  }
}

export type EngineClient = ReturnType<typeof createEngineClient>;

export type QuarantineListQuery = Partial<Record<"category" | "state" | "cursor", string>> & { limit?: number };

/** The hold queue's query as the engine takes it (strings as they go on the URL). */
export type ResultListQuery = Partial<Record<"status" | "callingAe" | "modality" | "sopClassUid" | "receivedFrom" | "receivedTo" | "uid" | "cursor", string>> & { limit?: number };

const tenantPath = (slug: string) => `/v1/tenants/${encodeURIComponent(slug)}`;
function queryString(q: Record<string, string | number | undefined>) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** Typed client of the engine admin API; every response is parsed with the contract's schemas. */
const TargetStudy = z.object({ studyInstanceUid: z.string(), instances: z.array(z.object({ sopInstanceUid: z.string() })) });

export function createEngineClient(opts: { url: string; token: string; fetch?: typeof fetch; timeoutMs?: number }) {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.url.replace(/\/$/, "");

  async function call<T extends z.ZodType>(schema: T, method: string, path: string, body?: unknown, allow404 = false) {
    let res: Response;
    try {
      res = await doFetch(base + path, {
        method,
        headers: { authorization: `Bearer ${opts.token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
    } catch (e) {
      throw new EngineUnavailableError(base, e);
    }
    if (allow404 && res.status === 404) return null;
    const payload: unknown = await res.json().catch(() => null);
    if (!res.ok) {
      const err = ApiError.safeParse(payload);
      throw err.success
        ? new EngineError(res.status, err.data.error, err.data.message, err.data.fields)
        : new EngineError(res.status, "unexpected_response", `The engine answered HTTP ${res.status}`);
    }
    return schema.parse(payload) as z.infer<T>;
  }

  /** A binary response streamed through; null for the statuses that mean "none" (a 404, or what `none` names). */
  async function stream(path: string, none = [404]) {
    let res: Response;
    try {
      res = await doFetch(base + path, { headers: { authorization: `Bearer ${opts.token}` }, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
    } catch (e) {
      throw new EngineUnavailableError(base, e);
    }
    if (none.includes(res.status)) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok || !res.body) throw new EngineError(res.status, "unexpected_response", `The engine answered HTTP ${res.status}`);
    return { body: res.body, size: Number(res.headers.get("content-length") ?? 0), etag: res.headers.get("etag") };
  }

  return {
    health: () => call(Health, "GET", "/healthz"),
    getTenantConfig: (slug: string) => call(AppliedTenantConfig, "GET", `/v1/tenants/${encodeURIComponent(slug)}`, undefined, true),
    putTenantConfig: async (slug: string, config: TenantConfig) =>
      (await call(AppliedTenantConfig, "PUT", `/v1/tenants/${encodeURIComponent(slug)}`, TenantConfig.parse(config)))!,
    listTenantConfigs: async () => (await call(z.object({ tenants: z.array(AppliedTenantConfig) }), "GET", "/v1/tenants"))!.tenants,
    listResults: async (slug: string, query: ResultListQuery) => (await call(ResultPage, "GET", `${tenantPath(slug)}/results${queryString(query)}`))!,
    getResult: (slug: string, id: string) => call(ResultDetail, "GET", `${tenantPath(slug)}/results/${encodeURIComponent(id)}`, undefined, true),
    purgeResult: async (slug: string, id: string, reason: string) =>
      (await call(ResultDetail, "POST", `${tenantPath(slug)}/results/${encodeURIComponent(id)}/purge`, PurgeRequest.parse({ reason })))!,
    offboardTenant: async (slug: string, reason: string) => (await call(OffboardReceipt, "POST", `${tenantPath(slug)}/offboard`, OffboardRequest.parse({ reason })))!,
    renotifyResult: async (slug: string, id: string) => (await call(ResultDetail, "POST", `${tenantPath(slug)}/results/${encodeURIComponent(id)}/renotify`, {}))!,
    retentionPreview: async (slug: string, ttlDays: number) => (await call(RetentionPreview, "GET", `${tenantPath(slug)}/retention-preview?ttlDays=${ttlDays}`))!,
    listRouters: async (slug: string) => (await call(RouterList, "GET", `${tenantPath(slug)}/routers`))!,
    enrollRouter: async (slug: string, name: string, calledAeTitles?: string[]) =>
      (await call(RouterEnrolment, "POST", `${tenantPath(slug)}/routers`, EnrollRouterRequest.parse({ name, ...(calledAeTitles?.length ? { calledAeTitles } : {}) })))!,
    revokeRouter: (slug: string, id: string) => call(RouterInfo, "DELETE", `${tenantPath(slug)}/routers/${encodeURIComponent(id)}`, undefined, true),
    listQuarantine: async (slug: string, query: QuarantineListQuery) => (await call(QuarantinePage, "GET", `${tenantPath(slug)}/quarantine${queryString(query)}`))!,
    getQuarantineItem: (slug: string, id: string) => call(QuarantineDetail, "GET", `${tenantPath(slug)}/quarantine/${encodeURIComponent(id)}`, undefined, true),
    evidenceHeader: (slug: string, id: string, evidenceId: string) =>
      call(EvidenceHeader, "GET", `${tenantPath(slug)}/quarantine/${encodeURIComponent(id)}/evidence/${encodeURIComponent(evidenceId)}/header`, undefined, true),
    evidenceDiff: (slug: string, id: string) => call(EvidenceDiff, "GET", `${tenantPath(slug)}/quarantine/${encodeURIComponent(id)}/diff`, undefined, true),
    decideQuarantineItem: async (slug: string, id: string, decision: z.input<typeof ItemDecision>) =>
      (await call(QuarantineItem, "POST", `${tenantPath(slug)}/quarantine/${encodeURIComponent(id)}/decision`, ItemDecision.parse(decision)))!,
    /** An evidence instance's bytes, streamed through (the browser never talks to the engine); null when not found. */
    evidenceBytes: (slug: string, id: string, evidenceId: string) => stream(`${tenantPath(slug)}/quarantine/${encodeURIComponent(id)}/evidence/${encodeURIComponent(evidenceId)}`),
    /** A PNG preview of an evidence instance's first frame; null when not found or when the engine cannot render it. */
    evidencePreview: (slug: string, id: string, evidenceId: string) =>
      stream(`${tenantPath(slug)}/quarantine/${encodeURIComponent(id)}/evidence/${encodeURIComponent(evidenceId)}/preview`, [404, 422]),
    listMigrations: async (slug: string) => (await call(z.object({ migrations: z.array(Migration) }), "GET", `${tenantPath(slug)}/migrations`))!.migrations,
    getMigration: (slug: string, id: string) => call(Migration, "GET", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}`, undefined, true),
    pauseMigration: async (slug: string, id: string) => (await call(Migration, "POST", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/pause`, {}))!,
    resumeMigration: async (slug: string, id: string) => (await call(Migration, "POST", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/resume`, {}))!,
    updateMigrationSettings: async (slug: string, id: string, settings: MigrationSettings) =>
      (await call(Migration, "PATCH", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/settings`, MigrationSettings.parse(settings)))!,
    /** Every checkpoint of the migration, oldest first; null when no such migration. */
    migrationCheckpoints: async (slug: string, id: string) =>
      (await call(MigrationCheckpointList, "GET", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/checkpoints`, undefined, true))?.checkpoints ?? null,
    /** Back to a checkpoint: the studies completed after it are redone; 409 (EngineError) unless paused or completed with nothing in flight. */
    rollbackMigration: async (slug: string, id: string, body: z.input<typeof RollbackRequest>) =>
      (await call(RollbackResult, "POST", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/rollback`, RollbackRequest.parse(body)))!,
    /** Roll-ups for the dashboard; with `since` (a previous answer's asOf) only what changed after it. */
    migrationDashboard: (slug: string, id: string, since?: string) =>
      call(MigrationDashboard, "GET", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/dashboard${queryString({ since })}`, undefined, true),
    /** Counts per source and status, with what is outstanding (plain counts; the reconciliation is reconcileMigration). */
    migrationProgress: (slug: string, id: string) => call(MigrationProgress, "GET", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/progress`, undefined, true),
    /** Runs the independent reconciliation now (source and target inventoried again); null when no such migration. */
    reconcileMigration: (slug: string, id: string) => call(MigrationReconciliation, "POST", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/reconciliation`, {}, true),
    /** The last reconciliation run; null when none (or no such migration). */
    /** A seeded sample of the recorded instances retrieved from the target again and hashed (kept as an event). */
    sampleVerify: (slug: string, id: string, body: z.input<typeof SampleVerificationRequest>) =>
      call(SampleVerification, "POST", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/sample-verification`, SampleVerificationRequest.parse(body), true),
    /** A migrated study's instances as the target holds them now (the engine retrieves it); null when not migrated here. */
    targetStudy: (slug: string, id: string, studyUid: string) =>
      call(TargetStudy, "GET", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/target-studies/${encodeURIComponent(studyUid)}`, undefined, true),
    targetInstanceBytes: (slug: string, id: string, studyUid: string, sopUid: string) =>
      stream(`${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/target-studies/${encodeURIComponent(studyUid)}/instances/${encodeURIComponent(sopUid)}`),
    lastSampleVerification: (slug: string, id: string) => call(SampleVerification, "GET", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/sample-verification`, undefined, true),
    lastReconciliation: (slug: string, id: string) => call(MigrationReconciliation, "GET", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/reconciliation`, undefined, true),
    /** The verification report as the engine renders it (CSV or JSON), for the console to pass through. */
    migrationVerification: async (slug: string, id: string, format: "csv" | "json") => {
      const res = await doFetch(`${base}${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/report?format=${format}`, {
        headers: { authorization: `Bearer ${opts.token}` },
        signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
      }).catch((e) => Promise.reject(new EngineUnavailableError(base, e)));
      if (res.status === 404) return null;
      if (!res.ok) throw new EngineError(res.status, "unexpected_response", `The engine answered HTTP ${res.status}`);
      return res.text();
    },
    // Planning a migration from the console (engine/api/plan-routes.ts, and the create/discover/start verbs).
    /** `createdBy` is version 1's author: the two-person rule compares the approver with it. */
    createMigration: async (slug: string, plan: z.input<typeof MigrationPlan>, createdBy?: z.input<typeof PlanAuthor>) =>
      (await call(Migration, "POST", `${tenantPath(slug)}/migrations`, CreateMigrationRequest.parse({ ...plan, ...(createdBy ? { createdBy } : {}) })))!,
    /** The plan's next version (it takes effect once approved); the engine checks the plan as it does on create, without a connection test. */
    updateMigrationPlan: async (slug: string, id: string, body: z.input<typeof PlanVersionRequest>) =>
      (await call(Migration, "PUT", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/plan`, PlanVersionRequest.parse(body)))!,
    /** Every plan version, newest first; null when no such migration. */
    migrationVersions: (slug: string, id: string) => call(PlanVersionList, "GET", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/versions`, undefined, true),
    /** Approves version n with the console's signature record; 409 (EngineError) when superseded, approved already or the author's own under the two-person rule. */
    approveMigrationVersion: async (slug: string, id: string, n: number, body: z.input<typeof PlanApprovalRequest>) =>
      (await call(PlanVersion, "POST", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/versions/${Math.trunc(n)}/approve`, PlanApprovalRequest.parse(body)))!,
    discoverMigration: async (slug: string, id: string) => (await call(Migration, "POST", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/discover`, {}))!,
    startMigration: async (slug: string, id: string) => (await call(Migration, "POST", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/start`, {}))!,
    testConnection: async (slug: string, request: z.input<typeof ConnectionTestRequest>) =>
      (await call(ConnectionTestResult, "POST", `${tenantPath(slug)}/connection-tests`, ConnectionTestRequest.parse(request)))!,
    previewTransforms: async (slug: string, request: z.input<typeof TransformPreviewRequest>) =>
      (await call(TransformPreview, "POST", `${tenantPath(slug)}/transform-previews`, TransformPreviewRequest.parse(request)))!,
    migrationInventory: (slug: string, id: string) => call(MigrationInventory, "GET", `${tenantPath(slug)}/migrations/${encodeURIComponent(id)}/inventory`, undefined, true),
    /** The engine's licence (self-hosted), with usage against its limits; hosted engines answer not_required. */
    licence: async () => (await call(LicenceStatus, "GET", "/v1/licence"))!,
    /** The engine's durable event outbox, in order, after `after` (a seq). */
    events: async (after: number, limit = 500) => (await call(EventFeed, "GET", `/v1/events?after=${after}&limit=${limit}`))!,
  };
}

/** The client for this process; a missing ENGINE_ADMIN_URL or ENGINE_ADMIN_TOKEN is a start-up error naming it. */
/** `timeoutMs` for the calls that reach an archive through the engine (probes, retrievals), slower than the rest. */
export function engineClientFromEnv(timeoutMs?: number) {
  const env = engineEnv();
  return createEngineClient({ url: env.ENGINE_ADMIN_URL, token: env.ENGINE_ADMIN_TOKEN, ...(timeoutMs ? { timeoutMs } : {}) });
}

/** An engine call whose failure to connect is a state to show ("engine unreachable"), not an error page. */
export async function tryEngine<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; message: string }> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (e instanceof EngineUnavailableError) return { ok: false, message: e.message };
    throw e;
  }
}
