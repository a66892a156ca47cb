// SCIM 2.0 one Group (a tenant role): PATCH adds or removes members, i.e. grants or withdraws the role.
import { json, readBody, scimHandler } from "@/server/scim/http";
import { getGroup, patchGroup } from "@/server/scim/service";

export const dynamic = "force-dynamic";

export const GET = scimHandler(async (tx, ctx, req, id) => json(await getGroup(tx, ctx, id!, new URL(req.url))));
export const PATCH = scimHandler(async (tx, ctx, req, id) => json(await patchGroup(tx, ctx, id!, await readBody(req))));
