// SCIM 2.0 discovery: one resource type by id (User or Group).
import { findResourceType } from "@/server/scim/discovery";
import { json, scimError, scimHandler } from "@/server/scim/http";

export const dynamic = "force-dynamic";

export const GET = scimHandler(async (_tx, ctx, _req, id) => {
  const found = findResourceType(ctx.base, id ?? "");
  return found ? json(found) : scimError(404, `No resource type ${id}: they are User and Group.`);
});
