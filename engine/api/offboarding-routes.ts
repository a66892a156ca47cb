// POST /v1/tenants/{slug}/offboard: the engine's half of offboarding a suspended tenant (the console's is the rest).
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { BlobStore } from "../store/blob-store";
import type { EngineDb } from "../store/db";
import type { Keyring } from "../store/keyring";
import { OffboardRefusedError, UnknownTenantError, offboardTenant } from "../relay/offboarding";
import { ApiError, OffboardReceipt, OffboardRequest } from "./contract";
import { errors, json, SlugParams } from "./route-helpers";

const route = createRoute({
  method: "post",
  path: "/v1/tenants/{slug}/offboard",
  security: [{ bearer: [] }],
  request: { params: SlugParams, body: { content: { "application/json": { schema: OffboardRequest } }, required: true } },
  responses: {
    200: json(OffboardReceipt, "Offboarded (or already was: the same receipt): live results purged, evidence, migrations and routers gone, data key destroyed"),
    ...errors,
    404: json(ApiError, "No such tenant in this engine"),
    409: json(ApiError, "Not suspended, or one of its migrations is running"),
  },
});

export function registerOffboardingRoutes(
  app: OpenAPIHono,
  opts: { db: EngineDb; blobs: BlobStore; keyring: Keyring; clock: { now: () => Date }; disconnect: (routerId: string) => void },
) {
  app.openapi(route, async (c) => {
    const { slug } = c.req.valid("param");
    try {
      const receipt = await offboardTenant({ db: opts.db, blobs: opts.blobs, keyring: opts.keyring, disconnect: opts.disconnect, now: opts.clock.now }, slug, c.req.valid("json").reason);
      return c.json(receipt, 200);
    } catch (e) {
      if (e instanceof OffboardRefusedError) return c.json({ error: "offboard_refused", message: e.message }, 409);
      if (e instanceof UnknownTenantError) return c.json({ error: "not_found", message: e.message }, 404);
      throw e;
    }
  });
}
