import { boolean, index, integer, jsonb, pgPolicy, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { tenantOnly } from "./rls";
import { signerColumns } from "./signer-columns";
import { tenants } from "./tenancy";

/**
 * The e-signature that approves one version of a migration plan (a controlled document, 21 CFR Part 11 §11.50):
 * who, when, what it means, after a fresh sign-in. `binding` is an HMAC over the tenant, the migration, the
 * version and its plan hash, so the record cannot be moved to another version or altered unnoticed. Append-only.
 */
export const migrationPlanSignatures = pgTable(
  "migration_plan_signatures",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** the engine's migration id */
    migrationId: uuid("migration_id").notNull(),
    version: integer("version").notNull(),
    planSha256: text("plan_sha256").notNull(),
    meaning: text("meaning").notNull(),
    ...signerColumns(),
    signerEmail: text("signer_email").notNull(),
  },
  (t) => [index("migration_plan_signatures_version").on(t.tenantId, t.migrationId, t.version), pgPolicy("migration_plan_signatures_tenant", tenantOnly(t))],
).enableRLS();

/** A tenant's approval policy: by default the person who wrote a plan version cannot be the one who approves it. */
export const migrationApprovalPolicies = pgTable(
  "migration_approval_policies",
  {
    tenantId: uuid("tenant_id")
      .primaryKey()
      .references(() => tenants.id, { onDelete: "cascade" }),
    requireSecondPerson: boolean("require_second_person").notNull().default(true),
  },
  (t) => [pgPolicy("migration_approval_policies_tenant", tenantOnly(t))],
).enableRLS();

/**
 * The signed-off migration record: what the migration was run under and proved (final plan version and its
 * approval, the reconciliation run at sign-off, the verification report's hash), frozen as `record` with its
 * SHA-256, and the e-signature of the person who signed it off. One per migration; append-only.
 */
export const migrationSignoffs = pgTable(
  "migration_signoffs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    migrationId: uuid("migration_id").notNull(),
    record: jsonb("record").notNull(),
    recordSha256: text("record_sha256").notNull(),
    meaning: text("meaning").notNull(),
    ...signerColumns(),
    signerEmail: text("signer_email").notNull(),
  },
  (t) => [uniqueIndex("migration_signoffs_migration").on(t.tenantId, t.migrationId), pgPolicy("migration_signoffs_tenant", tenantOnly(t))],
).enableRLS();

/**
 * A clinical spot-check list: N migrated studies picked at random by a seed (kept, so the pick can be repeated from
 * the exported report) for reviewers to open at the target and sign as looked at. Append-only.
 */
export const migrationSpotCheckLists = pgTable(
  "migration_spot_check_lists",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    migrationId: uuid("migration_id").notNull(),
    seed: text("seed").notNull(),
    /** the picked studies: { studyInstanceUid, targetStudyInstanceUid, instances }[] */
    studies: jsonb("studies").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("migration_spot_check_lists_migration").on(t.tenantId, t.migrationId, t.createdAt), pgPolicy("migration_spot_check_lists_tenant", tenantOnly(t))],
).enableRLS();

/** A reviewer's signature that they looked at one spot-checked study's images at the target. Append-only. */
export const migrationSpotChecks = pgTable(
  "migration_spot_checks",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    listId: uuid("list_id")
      .notNull()
      .references(() => migrationSpotCheckLists.id),
    studyInstanceUid: text("study_instance_uid").notNull(),
    /** what the reviewer saw: the number of instances the target served */
    instancesSeen: integer("instances_seen").notNull(),
    meaning: text("meaning").notNull(),
    note: text("note").notNull(),
    ...signerColumns(),
  },
  (t) => [uniqueIndex("migration_spot_checks_study").on(t.tenantId, t.listId, t.studyInstanceUid), pgPolicy("migration_spot_checks_tenant", tenantOnly(t))],
).enableRLS();
