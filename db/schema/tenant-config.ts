import { sql } from "drizzle-orm";
import { check, integer, pgEnum, pgPolicy, pgTable, text, timestamp, unique, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { currentTenantId } from "./rls";
import { tenants } from "./tenancy";


/**
 * The configuration a tenant wants the engine to apply. `version` increases with every change;
 * the worker's reconcile job pushes it and records `applied_version` once the engine confirms.
 */
export const tenantConfigs = pgTable(
  "tenant_configs",
  {
    tenantId: uuid("tenant_id")
      .primaryKey()
      .references(() => tenants.id, { onDelete: "cascade" }),
    ttlDays: integer("ttl_days").notNull().default(7),
    /** private storage SOP classes the tenant's AE titles accept besides the standard ones (a vendor's own objects) */
    privateSopClasses: text("private_sop_classes").array().notNull().default(sql`'{}'`),
    version: integer("version").notNull().default(1),
    appliedVersion: integer("applied_version"),
    appliedAt: timestamp("applied_at", { withTimezone: true }),
    lastSyncError: text("last_sync_error"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check("tenant_configs_ttl_days_range", sql`${t.ttlDays} between 1 and 30`),
    check("tenant_configs_version_positive", sql`${t.version} >= 1`),
    pgPolicy("tenant_configs_tenant", {
      for: "all",
      using: sql`${t.tenantId} = ${currentTenantId}`,
      withCheck: sql`${t.tenantId} = ${currentTenantId}`,
    }),
  ],
).enableRLS();

export const aeTitleKind = pgEnum("ae_title_kind", ["called", "calling"]);

/** Called AE titles route associations to a tenant; calling AE titles are the vendors allowed to send. */
export const aeTitles = pgTable(
  "ae_titles",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    kind: aeTitleKind("kind").notNull(),
    aeTitle: text("ae_title").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("ae_titles_tenant_kind_title").on(t.tenantId, t.kind, t.aeTitle),
    // A called AE title belongs to at most one tenant, across all tenants (RLS does not hide this index).
    uniqueIndex("ae_titles_called_unique").on(t.aeTitle).where(sql`${t.kind} = 'called'`),
    check("ae_titles_format", sql`${t.aeTitle} ~ '^[\\x20-\\x5b\\x5d-\\x7e]{1,16}$' and ${t.aeTitle} = btrim(${t.aeTitle})`),
    pgPolicy("ae_titles_tenant", {
      for: "all",
      using: sql`${t.tenantId} = ${currentTenantId}`,
      withCheck: sql`${t.tenantId} = ${currentTenantId}`,
    }),
  ],
).enableRLS();
