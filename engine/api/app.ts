import { randomUUID } from "node:crypto";
import { OpenAPIHono, createRoute } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { AeTitleTakenError, OffboardedTenantError, StaleVersionError, applyTenantConfig, getTenantConfig, listTenantConfigs } from "../relay/tenant-config";
import type { EngineDb } from "../store/db";
import { requireBearer } from "./bearer";
import {
  ApiError,
  AppliedTenantConfig,
  EventFeed,
  EventFeedQuery,
  Health,
  PurgeRequest,
  RetentionPreview,
  RetentionPreviewQuery,
  ResultDetail,
  ResultPage,
  ResultQuery,
  EnrollRouterRequest,
  RouterEnrolment,
  RouterInfo,
  RouterList,
  TenantConfig,
  TenantSlug,
} from "./contract";
import type { CertificateAuthority } from "../relay/ca";
import type { RouterSession } from "../relay/gateway";
import { listRouters, revokeRouter } from "../relay/routers";
import { createEnrolment, pendingEnrolments } from "../relay/enrolment";
import { LIVE_STATUSES } from "../store/schema";
import type { BlobStore } from "../store/blob-store";
import { previewRetention, transition, type Result } from "../relay/hold-queue";
import type { Registry } from "prom-client";
import { and, eq } from "drizzle-orm";
import { engineEvents, results as resultsTable } from "../store/schema";
import { eventsAfter, getResult, listResults } from "../relay/results-query";

import { errors, json, SlugParams } from "./route-helpers";
import { registerMigrationRoutes } from "./migration-routes";
import { registerPlanRoutes } from "./plan-routes";
import { registerQuarantineRoutes } from "./quarantine-routes";
import { registerLicenceRoutes } from "./licence-routes";
import { registerOffboardingRoutes } from "./offboarding-routes";
import type { Keyring } from "../store/keyring";
import type { LicenceGate } from "../licence/gate";
import type { MigrationRuntime } from "../migration/pipeline";
import type { MigrationRunners } from "../migration/runners";
const ResultParams = SlugParams.extend({ id: z.uuid("not a result id").meta({ param: { name: "id", in: "path" } }) });

const routes = {
  health: createRoute({
    method: "get",
    path: "/healthz",
    responses: { 200: json(Health, "The engine and its database are up"), 503: json(ApiError, "The database is unreachable") },
  }),
  putTenant: createRoute({
    method: "put",
    path: "/v1/tenants/{slug}",
    security: [{ bearer: [] }],
    request: { params: SlugParams, body: { content: { "application/json": { schema: TenantConfig } }, required: true } },
    responses: {
      200: json(AppliedTenantConfig, "Applied (or already applied at this version)"),
      ...errors,
      409: json(ApiError, "`stale_version`: a newer version is applied; `ae_title_taken`: a called AE title routes to another tenant; `single_tenant`, `licence_limit`: a new tenant this engine may not take; `offboarded`: the slug was offboarded and is not reused"),
    },
  }),
  getTenant: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}",
    security: [{ bearer: [] }],
    request: { params: SlugParams },
    responses: { 200: json(AppliedTenantConfig, "The applied config"), ...errors, 404: json(ApiError, "No config applied for this tenant") },
  }),
  listTenants: createRoute({
    method: "get",
    path: "/v1/tenants",
    security: [{ bearer: [] }],
    responses: { 200: json(z.object({ tenants: z.array(AppliedTenantConfig) }), "Every applied tenant config"), ...errors },
  }),
  listResults: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/results",
    security: [{ bearer: [] }],
    request: { params: SlugParams, query: ResultQuery },
    responses: { 200: json(ResultPage, "A page of the tenant's results, newest first"), ...errors },
  }),
  getResult: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/results/{id}",
    security: [{ bearer: [] }],
    request: { params: ResultParams },
    responses: { 200: json(ResultDetail, "The result with its event timeline"), ...errors, 404: json(ApiError, "No such result in this tenant") },
  }),
  purgeResult: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/results/{id}/purge",
    security: [{ bearer: [] }],
    request: { params: ResultParams, body: { content: { "application/json": { schema: PurgeRequest } }, required: true } },
    responses: {
      200: json(ResultDetail, "Purged: the bytes are deleted, the row keeps its timeline"),
      ...errors,
      404: json(ApiError, "No such result in this tenant"),
      409: json(ApiError, "The result is no longer held (already acked, expired or purged)"),
    },
  }),
  renotifyResult: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/results/{id}/renotify",
    security: [{ bearer: [] }],
    request: { params: ResultParams },
    responses: {
      200: json(ResultDetail, "The tenant's connected routers were told again (the timeline says how many)"),
      ...errors,
      404: json(ApiError, "No such result in this tenant"),
      409: json(ApiError, "The result is no longer held"),
    },
  }),
  retentionPreview: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/retention-preview",
    security: [{ bearer: [] }],
    request: { params: SlugParams, query: RetentionPreviewQuery },
    responses: { 200: json(RetentionPreview, "What that TTL would do to the results in the queue now"), ...errors },
  }),
  listRouters: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/routers",
    security: [{ bearer: [] }],
    request: { params: SlugParams },
    responses: { 200: json(RouterList, "Enrolled routers with their live connection state"), ...errors },
  }),
  enrollRouter: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/routers",
    security: [{ bearer: [] }],
    request: { params: SlugParams, body: { content: { "application/json": { schema: EnrollRouterRequest } }, required: true } },
    responses: {
      201: json(RouterEnrolment, "A one-time enrolment code for the router (shown once, valid 24 hours; only its hash is kept)"),
      ...errors,
      409: json(ApiError, "`licence_limit`: the licence's router limit is reached"),
    },
  }),
  revokeRouter: createRoute({
    method: "delete",
    path: "/v1/tenants/{slug}/routers/{id}",
    security: [{ bearer: [] }],
    request: { params: ResultParams },
    responses: { 200: json(RouterInfo, "Revoked; its connections are closed"), ...errors, 404: json(ApiError, "No such active router") },
  }),
  events: createRoute({
    method: "get",
    path: "/v1/events",
    security: [{ bearer: [] }],
    request: { query: EventFeedQuery },
    responses: { 200: json(EventFeed, "Events after `after`, in order; pass nextAfter to continue"), ...errors },
  }),
};

export function buildAdminApi(opts: {
  db: EngineDb;
  token: string;
  log: (m: string) => void;
  blobs: BlobStore;
  keyring: Keyring;
  clock: { now: () => Date };
  relay?: {
    ca: CertificateAuthority;
    gatewayUrl: string;
    sessions: (tenant: string) => RouterSession[];
    disconnect: (routerId: string) => void;
    /** tells a suspended tenant's connected routers why and closes them */
    suspendTenant?: (tenant: string, suspension: { since: string; reason: string }) => number;
    notify: (result: Result) => Promise<number>;
  };
  metrics?: Registry;
  /** self-hosted mode: the one tenant this engine serves */
  onlyTenant?: string;
  /** the migration runners' configuration (and, in tests, fault injection) */
  migration?: MigrationRuntime;
  /** the engine's migration runners: a started migration gets one here at once (others join within seconds) */
  runners?: MigrationRunners;
  /** the licence (self-hosted): asked before a new tenant, a new router, and new migration work */
  licence: LicenceGate;
}) {
  const app = new OpenAPIHono({
    // Every validation failure becomes a 400 that names the failing fields.
    defaultHook: (result, c) => {
      if (result.success) return;
      const flat = z.flattenError(result.error);
      const fields: Record<string, string[]> = { ...(flat.fieldErrors as Record<string, string[]>) };
      if (flat.formErrors.length) fields._ = flat.formErrors;
      const summary = Object.entries(fields).map(([k, v]) => `${k}: ${v.join("; ")}`).join(" · ");
      return c.json({ error: "invalid_request", message: `Invalid request: ${summary}`, fields }, 400);
    },
  });

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  app.use("/v1/*", requireBearer(opts.token));

  app.openapi(routes.health, async (c) => {
    try {
      await opts.db.execute(sql`select 1`);
      return c.json({ status: "ok" as const, database: "ok" as const }, 200);
    } catch {
      return c.json({ error: "database_unreachable", message: "The engine database is unreachable." }, 503);
    }
  });

  app.openapi(routes.putTenant, async (c) => {
    const { slug } = c.req.valid("param");
    if (opts.onlyTenant && slug !== opts.onlyTenant)
      return c.json({ error: "single_tenant", message: `This self-hosted engine serves only tenant "${opts.onlyTenant}".` }, 409);
    // Only a tenant new to the engine counts against the limit: reconfiguring one it has is always allowed.
    const overLimit = (await getTenantConfig(opts.db, slug)) ? null : await opts.licence.limitRefusal("tenants");
    if (overLimit) return c.json({ error: "licence_limit", message: overLimit }, 409);
    try {
      const applied = await applyTenantConfig(opts.db, slug, c.req.valid("json"));
      // Suspended: the tenant's routers go now (an already-applied version repeats this harmlessly: none are left).
      if (applied.suspended) opts.relay?.suspendTenant?.(slug, applied.suspended);
      return c.json(applied, 200);
    } catch (e) {
      if (e instanceof StaleVersionError) return c.json({ error: "stale_version", message: e.message }, 409);
      if (e instanceof OffboardedTenantError) return c.json({ error: "offboarded", message: e.message }, 409);
      if (e instanceof AeTitleTakenError)
        return c.json({ error: "ae_title_taken", message: e.message, fields: { calledAeTitles: [e.message] } }, 409);
      throw e;
    }
  });

  app.openapi(routes.getTenant, async (c) => {
    const config = await getTenantConfig(opts.db, c.req.valid("param").slug);
    if (!config) return c.json({ error: "not_found", message: "No configuration has been applied for this tenant." }, 404);
    return c.json(config, 200);
  });

  app.openapi(routes.listTenants, async (c) => c.json({ tenants: await listTenantConfigs(opts.db) }, 200));

  app.openapi(routes.listResults, async (c) => {
    try {
      return c.json(await listResults(opts.db, c.req.valid("param").slug, c.req.valid("query")), 200);
    } catch (e) {
      if (e instanceof Error && e.message === "invalid cursor")
        return c.json({ error: "invalid_request", message: "The cursor is not one this API issued.", fields: { cursor: ["invalid"] } }, 400);
      throw e;
    }
  });

  app.openapi(routes.getResult, async (c) => {
    const { slug, id } = c.req.valid("param");
    const result = await getResult(opts.db, slug, id);
    if (!result) return c.json({ error: "not_found", message: "No such result in this tenant." }, 404);
    return c.json(result, 200);
  });

  app.openapi(routes.purgeResult, async (c) => {
    const { slug, id } = c.req.valid("param");
    const { reason } = c.req.valid("json");
    const before = await getResult(opts.db, slug, id);
    if (!before) return c.json({ error: "not_found", message: "No such result in this tenant." }, 404);
    const purged = await transition(opts.db, { tenantSlug: slug, id }, [...LIVE_STATUSES], "purged", { reason }, { dropBlob: true, now: opts.clock.now() });
    if (!purged) return c.json({ error: "not_held", message: `The result is ${before.status}; only held results can be purged.` }, 409);
    if (purged.blobId) await opts.blobs.delete(slug, purged.blobId);
    return c.json((await getResult(opts.db, slug, id))!, 200);
  });

  app.openapi(routes.retentionPreview, async (c) => {
    const { slug } = c.req.valid("param");
    return c.json(await previewRetention(opts.db, slug, c.req.valid("query").ttlDays, opts.clock.now()), 200);
  });

  const relay = () => {
    if (!opts.relay) throw new Error("the router gateway is not running");
    return opts.relay;
  };
  app.openapi(routes.listRouters, async (c) => {
    const { slug } = c.req.valid("param");
    return c.json({ ...(await listRouters(opts.db, slug, relay().sessions(slug))), enrolments: await pendingEnrolments(opts.db, slug, opts.clock.now()) }, 200);
  });
  app.openapi(routes.enrollRouter, async (c) => {
    const { slug } = c.req.valid("param");
    const overLimit = await opts.licence.limitRefusal("routers");
    if (overLimit) return c.json({ error: "licence_limit", message: overLimit }, 409);
    const { name, calledAeTitles } = c.req.valid("json");
    const e = await createEnrolment(opts.db, slug, name, opts.clock.now(), calledAeTitles ?? []);
    return c.json({ enrolment: { id: e.id, name: e.name, expiresAt: e.expiresAt.toISOString() }, code: e.code, gatewayUrl: relay().gatewayUrl, caCertificatePem: relay().ca.certPem }, 201);
  });
  app.openapi(routes.revokeRouter, async (c) => {
    const { slug, id } = c.req.valid("param");
    const revoked = await revokeRouter(opts.db, slug, id);
    if (!revoked) return c.json({ error: "not_found", message: "No such active router in this tenant." }, 404);
    relay().disconnect(id);
    return c.json(revoked, 200);
  });

  app.openapi(routes.renotifyResult, async (c) => {
    const { slug, id } = c.req.valid("param");
    const [row] = await opts.db.select().from(resultsTable).where(and(eq(resultsTable.tenantSlug, slug), eq(resultsTable.id, id)));
    if (!row) return c.json({ error: "not_found", message: "No such result in this tenant." }, 404);
    if (!(LIVE_STATUSES as readonly string[]).includes(row.status))
      return c.json({ error: "not_held", message: `The result is ${row.status}; only held results can be re-notified.` }, 409);
    const routers = await relay().notify(row);
    await opts.db.insert(engineEvents).values({ tenantSlug: slug, type: "result.renotified", payload: { resultId: id, routersNotified: routers } });
    return c.json((await getResult(opts.db, slug, id))!, 200);
  });

  // Prometheus scrape endpoint; behind the same bearer token (its labels name tenants).
  app.use("/metrics", requireBearer(opts.token));
  app.get("/metrics", async (c) => {
    if (!opts.metrics) return c.text("", 404);
    return c.text(await opts.metrics.metrics(), 200, { "content-type": opts.metrics.contentType });
  });

  app.openapi(routes.events, async (c) => {
    const { after, limit } = c.req.valid("query");
    return c.json(await eventsAfter(opts.db, after, limit), 200);
  });

  registerMigrationRoutes(app, opts);
  registerLicenceRoutes(app, opts);
  registerOffboardingRoutes(app, { ...opts, disconnect: (id) => opts.relay?.disconnect(id) });
  registerPlanRoutes(app, { db: opts.db, migration: opts.migration });
  registerQuarantineRoutes(app, { db: opts.db, evidence: opts.migration?.evidence, runners: opts.runners });

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "Imaging engine admin API", version: "1.0.0", description: "Drives the relay and migration engine." },
  });

  app.notFound((c) => c.json({ error: "not_found", message: `No route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    if (err instanceof HTTPException && err.status < 500) {
      const message = err.message.includes("JSON") ? "The request body is not valid JSON." : err.message;
      return c.json({ error: "invalid_request", message }, err.status);
    }
    const requestId = randomUUID();
    opts.log(`error ${requestId} on ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`);
    return c.json({ error: "internal", message: "The engine hit an unexpected error; it is still running.", requestId }, 500);
  });
  return app;
}
