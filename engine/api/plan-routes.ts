// Planning a migration from the console: test one endpoint of a plan (saved or not) and read what discovery found.
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { EngineDb } from "../store/db";
import type { MigrationRuntime } from "../migration/pipeline";
import { testConnection } from "../migration/connection-test";
import { migrationInventory } from "../migration/inventory";
import { PreviewError, previewTransforms } from "../migration/preview";
import { getMigration } from "../migration/plans";
import { ApiError, ConnectionTestRequest, ConnectionTestResult, MigrationInventory, TransformPreview, TransformPreviewRequest } from "./contract";
import { errors, json, SlugParams } from "./route-helpers";

const MigrationParams = SlugParams.extend({ id: z.uuid("not a migration id").meta({ param: { name: "id", in: "path" } }) });

const routes = {
  connectionTest: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/connection-tests",
    security: [{ bearer: [] }],
    request: { params: SlugParams, body: { content: { "application/json": { schema: ConnectionTestRequest } }, required: true } },
    responses: { 200: json(ConnectionTestResult, "Each check that ran, with what failed in words a PACS administrator can act on"), ...errors },
  }),
  preview: createRoute({
    method: "post",
    path: "/v1/tenants/{slug}/transform-previews",
    security: [{ bearer: [] }],
    request: { params: SlugParams, body: { content: { "application/json": { schema: TransformPreviewRequest } }, required: true } },
    responses: {
      200: json(TransformPreview, "A sample study from the source with the plan's rules applied as the pipeline applies them: each instance's elements before and after"),
      ...errors,
      422: json(ApiError, "No sample study could be found, retrieved or transformed; the message says why"),
    },
  }),
  inventory: createRoute({
    method: "get",
    path: "/v1/tenants/{slug}/migrations/{id}/inventory",
    security: [{ bearer: [] }],
    request: { params: MigrationParams },
    responses: { 200: json(MigrationInventory, "Studies and instances discovered, per source, modality and study year"), ...errors, 404: json(ApiError, "No such migration in this tenant") },
  }),
};

export function registerPlanRoutes(app: OpenAPIHono, opts: { db: EngineDb; migration?: MigrationRuntime }) {
  app.openapi(routes.connectionTest, async (c) => {
    const { slug } = c.req.valid("param");
    return c.json(await testConnection(c.req.valid("json"), { slug, importRoot: opts.migration?.importRoot, exportRoot: opts.migration?.exportRoot }), 200);
  });

  app.openapi(routes.preview, async (c) => {
    const { slug } = c.req.valid("param");
    const { plan, sourceId } = c.req.valid("json");
    try {
      return c.json(await previewTransforms(plan, sourceId, { slug, ...opts.migration }), 200);
    } catch (e) {
      if (e instanceof PreviewError) return c.json({ error: "preview_failed", message: e.message }, 422);
      throw e;
    }
  });

  app.openapi(routes.inventory, async (c) => {
    const { slug, id } = c.req.valid("param");
    if (!(await getMigration(opts.db, slug, id))) return c.json({ error: "not_found", message: "No such migration in this tenant." }, 404);
    return c.json(await migrationInventory(opts.db, id), 200);
  });
}
