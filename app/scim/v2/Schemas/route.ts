// SCIM 2.0 discovery: the User and Group schemas with the attributes this service reads and writes (RFC 7643 §7).
import { listSchemas } from "@/server/scim/discovery";
import { json, scimHandler } from "@/server/scim/http";

export const dynamic = "force-dynamic";

export const GET = scimHandler(async (_tx, ctx) => json(listSchemas(ctx.base)));
