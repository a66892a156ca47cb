import { sql } from "drizzle-orm";
import { boolean, check, index, integer, pgEnum, pgPolicy, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { currentTenantId, currentUserId, isSystem } from "./rls";
import { tenants, users } from "./tenancy";

export const breakGlassScope = pgEnum("break_glass_scope", ["read_only", "read_write"]);
export const breakGlassStatus = pgEnum("break_glass_status", ["pending", "active", "ended", "revoked", "denied", "lapsed"]);

/**
 * An engineer's time-bound access to one tenant's data. Kept for ever, whatever its outcome, so the tenant can
 * see every vendor access. The tenant reads and decides on its own grants; an engineer reads and ends their own.
 */
export const breakGlassGrants = pgTable(
  "break_glass_grants",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    engineerUserId: uuid("engineer_user_id")
      .notNull()
      .references(() => users.id),
    engineerName: text("engineer_name").notNull(),
    engineerEmail: text("engineer_email").notNull(),
    justification: text("justification").notNull(),
    ticket: text("ticket").notNull(),
    scope: breakGlassScope("scope").notNull(),
    durationMinutes: integer("duration_minutes").notNull(),
    status: breakGlassStatus("status").notNull(),
    requestedAt: timestamp("requested_at", { withTimezone: true }).notNull(),
    startsAt: timestamp("starts_at", { withTimezone: true }),
    endsAt: timestamp("ends_at", { withTimezone: true }),
    decidedByEmail: text("decided_by_email"),
    closedAt: timestamp("closed_at", { withTimezone: true }),
    closedByEmail: text("closed_by_email"),
    closeReason: text("close_reason"),
  },
  (t) => [
    check("break_glass_justification", sql`char_length(${t.justification}) >= 20`),
    check("break_glass_duration", sql`${t.durationMinutes} between 1 and 240`),
    index("break_glass_tenant").on(t.tenantId, t.requestedAt),
    index("break_glass_engineer").on(t.engineerUserId, t.status),
    pgPolicy("break_glass_tenant", { for: "all", using: sql`${t.tenantId} = ${currentTenantId}`, withCheck: sql`${t.tenantId} = ${currentTenantId}` }),
    pgPolicy("break_glass_engineer", { for: "all", using: sql`${t.engineerUserId} = ${currentUserId}`, withCheck: sql`${t.engineerUserId} = ${currentUserId}` }),
    pgPolicy("break_glass_system", { for: "all", using: isSystem, withCheck: isSystem }),
  ],
).enableRLS();

/** A tenant's break-glass policy: by default grants start at once; the tenant may require its approval. */
export const breakGlassPolicies = pgTable(
  "break_glass_policies",
  {
    tenantId: uuid("tenant_id")
      .primaryKey()
      .references(() => tenants.id, { onDelete: "cascade" }),
    requireApproval: boolean("require_approval").notNull().default(false),
    /** unanswered requests lapse after this long */
    approvalWindowMinutes: integer("approval_window_minutes").notNull().default(60),
  },
  (t) => [
    check("break_glass_window", sql`${t.approvalWindowMinutes} between 5 and 1440`),
    pgPolicy("break_glass_policy_tenant", { for: "all", using: sql`${t.tenantId} = ${currentTenantId}`, withCheck: sql`${t.tenantId} = ${currentTenantId}` }),
    pgPolicy("break_glass_policy_system_read", { for: "select", using: isSystem }),
  ],
).enableRLS();
