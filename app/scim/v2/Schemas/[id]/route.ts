// SCIM 2.0 discovery: one schema by its URN.
import { findSchema } from "@/server/scim/discovery";
import { json, scimError, scimHandler } from "@/server/scim/http";

export const dynamic = "force-dynamic";

export const GET = scimHandler(async (_tx, ctx, _req, id) => {
  const found = findSchema(ctx.base, id ?? "");
  return found ? json(found) : scimError(404, `No schema ${id}: this service has the core User and Group schemas.`);
});
