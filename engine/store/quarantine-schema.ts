import { bigint, index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * The bytes a reviewer needs to judge a quarantined study: each instance as extracted (after the plan's rules and
 * any repair, i.e. what the target was meant to hold) and, for a hash mismatch, the offending instance as the
 * target stored it. The bytes live in the blob store encrypted with the tenant's key; a new quarantine of the same
 * study replaces them (the reviewer judges the latest attempt).
 */
export const quarantineEvidence = pgTable(
  "quarantine_evidence",
  {
    id: uuid("id").primaryKey(),
    tenantSlug: text("tenant_slug").notNull(),
    migrationId: uuid("migration_id").notNull(),
    sourceId: text("source_id").notNull(),
    studyInstanceUid: text("study_instance_uid").notNull(),
    /** source: as extracted and transformed (what the target should hold); target: as the target stored it */
    side: text("side", { enum: ["source", "target"] }).notNull(),
    sopInstanceUid: text("sop_instance_uid"),
    /** order of the instance in the study (instance number where known, else extraction order) */
    position: bigint("position", { mode: "number" }).notNull(),
    blobId: text("blob_id").notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    sha256: text("sha256").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("quarantine_evidence_study").on(t.migrationId, t.sourceId, t.studyInstanceUid, t.side, t.position)],
);
