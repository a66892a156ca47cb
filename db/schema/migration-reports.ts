import { sql } from "drizzle-orm";
import { customType, index, integer, jsonb, pgPolicy, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { currentTenantId } from "./rls";
import { tenants } from "./tenancy";

const bytea = customType<{ data: Buffer }>({ dataType: () => "bytea" });
// Tenant rows only: the worker acts per tenant (systemContext), never across tenants in one transaction.
const tenantPolicies = (tenantId: Parameters<typeof sql>[1]) => [pgPolicy("tenant", { for: "all", using: sql`${tenantId} = ${currentTenantId}`, withCheck: sql`${tenantId} = ${currentTenantId}` })];

/** A stakeholder report on one migration: the figures as they were (page) and its PDF, kept. */
export const migrationReports = pgTable(
  "migration_reports",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** the engine's migration id (the console never reads the engine's database) */
    migrationId: uuid("migration_id").notNull(),
    kind: text("kind", { enum: ["scheduled", "on_demand"] }).notNull(),
    periodStart: timestamp("period_start", { withTimezone: true }).notNull(),
    periodEnd: timestamp("period_end", { withTimezone: true }).notNull(),
    /** the report's content as computed at generation: what the page and the PDF both show */
    content: jsonb("content").notNull(),
    pdf: bytea("pdf"),
    requestedBy: text("requested_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("migration_reports_migration").on(t.tenantId, t.migrationId, t.createdAt), ...tenantPolicies(t.tenantId)],
).enableRLS();

/** A tenant's webhook receiver: its secret is kept encrypted (shown once at creation) to sign each delivery. */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    /** AES-256-GCM under a key derived from AUTH_SECRET: iv.tag.ciphertext, base64 */
    secretEncrypted: text("secret_encrypted").notNull(),
    events: text("events").array().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    removedAt: timestamp("removed_at", { withTimezone: true }),
  },
  (t) => [index("webhook_endpoints_tenant").on(t.tenantId), ...tenantPolicies(t.tenantId)],
).enableRLS();

/** Every delivery and its attempts: the log the tenant sees (response codes, errors, when delivered). */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    event: text("event").notNull(),
    payload: jsonb("payload").notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    /** each attempt: when, status code or error */
    log: jsonb("log").notNull().default(sql`'[]'::jsonb`),
    deliveredAt: timestamp("delivered_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("webhook_deliveries_tenant").on(t.tenantId, t.createdAt), ...tenantPolicies(t.tenantId)],
).enableRLS();

/** What was already announced per migration (a milestone, an anomaly episode): announced once. */
export const migrationNotices = pgTable(
  "migration_notices",
  {
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    migrationId: uuid("migration_id").notNull(),
    key: text("key").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.migrationId, t.key] }), ...tenantPolicies(t.tenantId)],
).enableRLS();
