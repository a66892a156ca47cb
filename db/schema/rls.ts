// The session settings that row-level security reads. They are set per transaction by server/db.ts;
// `nullif(…, '')` because a pooled connection returns '' (not NULL) once a setting has been used.
import { sql } from "drizzle-orm";

export const currentTenantId = sql`nullif(current_setting('app.tenant_id', true), '')::uuid`;
export const currentUserId = sql`nullif(current_setting('app.user_id', true), '')::uuid`;
export const currentUserEmail = sql`nullif(current_setting('app.user_email', true), '')`;
/** 'on' only for the worker and the launcher's system tasks: lets them read the tenants registry. */
export const isSystem = sql`coalesce(nullif(current_setting('app.system', true), ''), 'off') = 'on'`;

/** A policy's body for a table whose rows belong to one tenant: only that tenant's transaction sees or writes them. */
export const tenantOnly = (t: { tenantId: unknown }) => ({
  for: "all" as const,
  using: sql`${t.tenantId} = ${currentTenantId}`,
  withCheck: sql`${t.tenantId} = ${currentTenantId}`,
});
