// SCIM 2.0 discovery: what this service provider supports (RFC 7644 §4).
import { serviceProviderConfig } from "@/server/scim/discovery";
import { json, scimHandler } from "@/server/scim/http";

export const dynamic = "force-dynamic";

export const GET = scimHandler(async (_tx, ctx) => json(serviceProviderConfig(ctx.base)));
