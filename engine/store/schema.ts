import { sql } from "drizzle-orm";
import { bigserial, check, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** The configuration the engine applies per tenant, as last pushed by the console. */
export const tenantConfigs = pgTable(
  "tenant_configs",
  {
    slug: text("slug").primaryKey(),
    ttlDays: integer("ttl_days").notNull(),
    calledAeTitles: text("called_ae_titles").array().notNull(),
    allowedCallingAeTitles: text("allowed_calling_ae_titles").array().notNull(),
    version: integer("version").notNull(),
    appliedAt: timestamp("applied_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("tenant_configs_ttl_days_range", sql`${t.ttlDays} between 1 and 30`)],
);

/**
 * The event outbox: every data event the engine produces, in order; the console's worker ingests it into the
 * audit chain with a durable cursor (the id).
 */
export const engineEvents = pgTable(
  "engine_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    tenantSlug: text("tenant_slug"),
    type: text("type").notNull(),
    payload: jsonb("payload").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("engine_events_tenant").on(t.tenantSlug, t.id)],
);
