// SCIM 2.0 Groups: the tenant's four roles (server/scim/service.ts); they are listed, not created.
import { json, scimError, scimHandler } from "@/server/scim/http";
import { listGroups } from "@/server/scim/service";

export const dynamic = "force-dynamic";

export const GET = scimHandler(async (tx, ctx, req) => json(await listGroups(tx, ctx, new URL(req.url))));
export const POST = scimHandler(async () => scimError(409, "The groups are the tenant's roles (tenant_admin, clinical_reviewer, senior_reviewer, migration_operator) and exist already: link to them by displayName.", "uniqueness"));
