// SCIM 2.0 one User (RFC 7644 §3.4.1, §3.5, §3.6): PATCH active false deprovisions and ends the person's sessions.
import { json, readBody, scimHandler } from "@/server/scim/http";
import { deleteUser, getUser, patchUser, replaceUser } from "@/server/scim/service";

export const dynamic = "force-dynamic";

export const GET = scimHandler(async (tx, ctx, _req, id) => json(await getUser(tx, ctx, id!)));
export const PUT = scimHandler(async (tx, ctx, req, id) => json(await replaceUser(tx, ctx, id!, await readBody(req))));
export const PATCH = scimHandler(async (tx, ctx, req, id) => json(await patchUser(tx, ctx, id!, await readBody(req))));
export const DELETE = scimHandler(async (tx, ctx, _req, id) => {
  await deleteUser(tx, ctx, id!);
  return new Response(null, { status: 204 });
});
