// SCIM 2.0 Users (RFC 7644 §3.3, §3.4.2): the tenant is the bearer token's (server/scim/http.ts).
import { json, readBody, scimHandler } from "@/server/scim/http";
import { createUser, listUsers } from "@/server/scim/service";

export const dynamic = "force-dynamic";

export const GET = scimHandler(async (tx, ctx, req) => json(await listUsers(tx, ctx, new URL(req.url))));
export const POST = scimHandler(async (tx, ctx, req) => {
  const user = await createUser(tx, ctx, await readBody(req));
  return new Response(JSON.stringify(user), { status: 201, headers: { "content-type": "application/scim+json", location: user.meta.location } });
});
