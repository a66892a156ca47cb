import { sql } from "drizzle-orm";
import { jsonb, pgEnum, pgPolicy, pgTable, text, timestamp, unique, uuid, index } from "drizzle-orm/pg-core";
import { currentTenantId, currentUserEmail, currentUserId, isSystem } from "./rls";

export const tenants = pgTable(
  "tenants",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    slug: text("slug").notNull().unique(),
    name: text("name").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /**
     * Set while an engineer has suspended the tenant: the engine refuses its called AE titles and disconnects its
     * routers; nothing held is deleted and the TTL keeps running. Cleared on reactivation (both are audited).
     */
    suspendedAt: timestamp("suspended_at", { withTimezone: true }),
    suspensionReason: text("suspension_reason"),
    suspendedBy: text("suspended_by"),
    /**
     * Offboarding, in two steps an engineer takes on a suspended tenant: the request (cancellable during the wait),
     * then the deletion. The row stays afterwards, so the slug is never reused and the audit chain keeps its tenant;
     * `offboardReceipt` is the engine's account of what it purged.
     */
    offboardingRequestedAt: timestamp("offboarding_requested_at", { withTimezone: true }),
    offboardingRequestedBy: text("offboarding_requested_by"),
    offboardingReason: text("offboarding_reason"),
    offboardedAt: timestamp("offboarded_at", { withTimezone: true }),
    offboardedBy: text("offboarded_by"),
    offboardReceipt: jsonb("offboard_receipt"),
  },
  (t) => [
    // A tenant's own row, the tenants a signed-in user belongs to, or everything for system tasks.
    pgPolicy("tenants_visible", {
      for: "select",
      using: sql`${t.id} = ${currentTenantId} or ${isSystem} or exists (
        select 1 from memberships m where m.tenant_id = ${t.id} and m.user_id = ${currentUserId})`,
    }),
    pgPolicy("tenants_system_write", { for: "all", using: isSystem, withCheck: isSystem }),
  ],
).enableRLS();

/** Identity as the IdP asserted it; one row per (issuer, subject). Not tenant data. */
export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    issuer: text("issuer").notNull(),
    subject: text("subject").notNull(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastSignInAt: timestamp("last_sign_in_at", { withTimezone: true }).notNull().defaultNow(),
    /**
     * Every session of this person that began at or before this instant is over (set when the identity provider
     * deprovisions them over SCIM); checked on every request that reads the session, beside ended_sessions.
     */
    sessionsRevokedAt: timestamp("sessions_revoked_at", { withTimezone: true }),
  },
  (t) => [unique("users_issuer_subject").on(t.issuer, t.subject), index("users_email").on(t.email)],
);

/**
 * Console sessions ended by signing out. A session is a signed cookie (JWT), so its end has to be kept on the
 * server: a request already in flight when the person signed out comes back with a refreshed cookie, which would
 * otherwise bring the session back. A row is needed only until the session would have expired anyway.
 */
export const endedSessions = pgTable(
  "ended_sessions",
  {
    sid: uuid("sid").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    endedAt: timestamp("ended_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("ended_sessions_expires").on(t.expiresAt)],
);

export const tenantRole = pgEnum("tenant_role", ["tenant_admin", "clinical_reviewer", "senior_reviewer", "migration_operator"]);

/**
 * A role in a tenant, granted to an e-mail address; `user_id` is filled on that person's first sign-in
 * with a verified e-mail, so admins can invite people before they have ever signed in.
 */
export const memberships = pgTable(
  "memberships",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    userId: uuid("user_id").references(() => users.id),
    role: tenantRole("role").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** an invitation not yet taken up lapses then (null: it does not lapse, as for the seed's and a tenant's first admin) */
    invitationExpiresAt: timestamp("invitation_expires_at", { withTimezone: true }),
    invitedBy: text("invited_by"),
  },
  (t) => [
    unique("memberships_tenant_email_role").on(t.tenantId, t.email, t.role),
    index("memberships_user").on(t.userId),
    index("memberships_email").on(t.email),
    pgPolicy("memberships_tenant", {
      for: "all",
      using: sql`${t.tenantId} = ${currentTenantId}`,
      withCheck: sql`${t.tenantId} = ${currentTenantId}`,
    }),
    pgPolicy("memberships_own_read", {
      for: "select",
      using: sql`${t.userId} = ${currentUserId} or ${t.email} = ${currentUserEmail}`,
    }),
    // First sign-in: a person may attach their own user id to invitations addressed to their verified e-mail.
    pgPolicy("memberships_own_link", {
      for: "update",
      using: sql`${t.userId} is null and ${t.email} = ${currentUserEmail}`,
      withCheck: sql`${t.userId} = ${currentUserId} and ${t.email} = ${currentUserEmail}`,
    }),
  ],
).enableRLS();
