import { boolean, index, jsonb, pgEnum, pgPolicy, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { tenantOnly } from "./rls";
import { signerColumns } from "./signer-columns";
import { tenants, users } from "./tenancy";

/** Who is working a quarantined study (engine item id), so two reviewers don't adjudicate the same one. */
export const quarantineClaims = pgTable(
  "quarantine_claims",
  {
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    itemId: text("item_id").notNull(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    userName: text("user_name").notNull(),
    claimedAt: timestamp("claimed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.itemId] }), pgPolicy("quarantine_claims_tenant", tenantOnly(t))],
).enableRLS();

export const signatureDecision = pgEnum("signature_decision", ["repair", "retry", "skip", "escalate", "countersign"]);

/**
 * An electronic signature on a review decision (21 CFR Part 11 §11.50): the signer's printed name, when, and what
 * the signature means, after a fresh sign-in at the IdP (`auth_time`). `binding` is an HMAC over the tenant, the
 * study (item id), the decision and its content, so the record cannot be moved to another study or altered
 * without detection (§11.70). Append-only.
 */
export const quarantineSignatures = pgTable(
  "quarantine_signatures",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    itemId: text("item_id").notNull(),
    studyInstanceUid: text("study_instance_uid").notNull(),
    decision: signatureDecision("decision").notNull(),
    meaning: text("meaning").notNull(),
    reason: text("reason").notNull(),
    patch: jsonb("patch"),
    ...signerColumns(),
    signerEmail: text("signer_email").notNull(),
    /** one signing ceremony for several items (bulk review) */
    batchId: uuid("batch_id"),
    /** a countersignature names the repair signature it countersigns */
    countersigns: uuid("countersigns"),
    /** the repair waits for a countersignature before the engine gets it (tenant policy) */
    awaitingCountersignature: boolean("awaiting_countersignature").notNull().default(false),
  },
  (t) => [index("quarantine_signatures_item").on(t.tenantId, t.itemId, t.signedAt), pgPolicy("quarantine_signatures_tenant", tenantOnly(t))],
).enableRLS();

/** A tenant's review policy: a repair may need a second reviewer's countersignature before the engine applies it. */
export const quarantinePolicies = pgTable(
  "quarantine_policies",
  {
    tenantId: uuid("tenant_id")
      .primaryKey()
      .references(() => tenants.id, { onDelete: "cascade" }),
    requireCountersignature: boolean("require_countersignature").notNull().default(false),
  },
  (t) => [pgPolicy("quarantine_policies_tenant", tenantOnly(t))],
).enableRLS();
