// SCIM 2.0 discovery: the resource types served, Users and Groups (RFC 7644 §4).
import { listResourceTypes } from "@/server/scim/discovery";
import { json, scimHandler } from "@/server/scim/http";

export const dynamic = "force-dynamic";

export const GET = scimHandler(async (_tx, ctx) => json(listResourceTypes(ctx.base)));
