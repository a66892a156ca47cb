// GET /v1/licence: what the console shows engineers and tenant admins of a self-hosted deployment.
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { LicenceGate } from "../licence/gate";
import { LicenceStatus } from "./contract";
import { errors, json } from "./route-helpers";

const route = createRoute({
  method: "get",
  path: "/v1/licence",
  security: [{ bearer: [] }],
  responses: { 200: json(LicenceStatus, "The licence, usage against its limits and days to expiry (hosted: not_required)"), ...errors },
});

export function registerLicenceRoutes(app: OpenAPIHono, opts: { licence: LicenceGate }) {
  app.openapi(route, async (c) => c.json(await opts.licence.status(), 200));
}
