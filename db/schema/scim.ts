import { sql } from "drizzle-orm";
import { boolean, pgPolicy, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { tenantOnly } from "./rls";
import { tenantRole, tenants } from "./tenancy";

/**
 * A bearer token an identity provider provisions the tenant's members with (SCIM 2.0, /scim/v2). Only its SHA-256
 * is kept; the token itself is shown once. It names its tenant (scim_<tenant id>_<secret>), so it is looked up under
 * that tenant's row-level security and never sees another tenant.
 */
export const scimTokens = pgTable(
  "scim_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    /** the role a provisioned user gets when the identity provider sends no group (null: none until a group) */
    defaultRole: tenantRole("default_role"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    createdBy: text("created_by").notNull(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [unique("scim_tokens_tenant_name").on(t.tenantId, t.name), pgPolicy("scim_tokens_tenant", tenantOnly(t))],
).enableRLS();

/**
 * A person as the tenant's identity provider provisions them: one per tenant and e-mail (the SCIM userName). Their
 * roles are the tenant's memberships of that e-mail; while inactive they have none, and `suspendedRoles` keeps the
 * roles to give back when the provider reactivates them.
 */
export const scimUsers = pgTable(
  "scim_users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    externalId: text("external_id"),
    displayName: text("display_name"),
    active: boolean("active").notNull().default(true),
    suspendedRoles: tenantRole("suspended_roles").array().notNull().default(sql`'{}'`),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique("scim_users_tenant_email").on(t.tenantId, t.email), pgPolicy("scim_users_tenant", tenantOnly(t))],
).enableRLS();
