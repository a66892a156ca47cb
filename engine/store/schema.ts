import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, check, customType, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

/** The configuration the engine applies per tenant, as last pushed by the console. */
export const tenantConfigs = pgTable(
  "tenant_configs",
  {
    slug: text("slug").primaryKey(),
    ttlDays: integer("ttl_days").notNull(),
    calledAeTitles: text("called_ae_titles").array().notNull(),
    allowedCallingAeTitles: text("allowed_calling_ae_titles").array().notNull(),
    /** private storage SOP classes accepted besides the standard ones (vendors' own objects) */
    privateSopClasses: text("private_sop_classes").array().notNull().default(sql`'{}'`),
    version: integer("version").notNull(),
    appliedAt: timestamp("applied_at", { withTimezone: true }).notNull().defaultNow(),
    /** set while the tenant is suspended: its called AE titles are refused, its routers disconnected; nothing is deleted */
    suspendedAt: timestamp("suspended_at", { withTimezone: true }),
    suspensionReason: text("suspension_reason"),
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
  (t) => [
    index("engine_events_tenant").on(t.tenantSlug, t.id),
    index("engine_events_result").on(sql`(${t.payload}->>'resultId')`),
    // A migration's own events (control, settings, decisions) for its dashboard and report.
    index("engine_events_migration").on(sql`(${t.payload}->>'migrationId')`, t.id),
  ],
);

const bytea = customType<{ data: Buffer }>({ dataType: () => "bytea" });

/** Each tenant's data key, wrapped by the master key (engine/store/encryption.ts). */
export const tenantKeys = pgTable("tenant_keys", {
  slug: text("slug").primaryKey(),
  wrappedKey: bytea("wrapped_key").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Offboarded tenants: their live results purged, quarantine evidence, routers and configuration deleted, and their
 * data key destroyed, so any byte left on a disk or in a backup is unreadable. The slug is never configured again;
 * the receipt says what was removed.
 */
export const offboardedTenants = pgTable("offboarded_tenants", {
  slug: text("slug").primaryKey(),
  offboardedAt: timestamp("offboarded_at", { withTimezone: true }).notNull().defaultNow(),
  reason: text("reason").notNull(),
  receipt: jsonb("receipt").notNull(),
});

export const resultStatus = pgEnum("result_status", ["held", "notified", "pulled", "acked", "expired", "purged"]);
export const LIVE_STATUSES = ["held", "notified", "pulled"] as const;

/**
 * A vendor result in a tenant's hold queue. The bytes live in the blob store until the router acks them (or the
 * result expires or is purged); the row stays, with its timeline in engine_events, until its TTL would have
 * expired it, so the console can show what happened.
 */
export const results = pgTable(
  "results",
  {
    id: uuid("id").primaryKey(),
    tenantSlug: text("tenant_slug").notNull(),
    callingAe: text("calling_ae").notNull(),
    calledAe: text("called_ae").notNull(),
    peerAddress: text("peer_address").notNull(),
    sopClassUid: text("sop_class_uid").notNull(),
    sopInstanceUid: text("sop_instance_uid").notNull(),
    studyInstanceUid: text("study_instance_uid"),
    seriesInstanceUid: text("series_instance_uid"),
    modality: text("modality"),
    transferSyntaxUid: text("transfer_syntax_uid").notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    sha256: text("sha256").notNull(),
    blobId: text("blob_id"),
    status: resultStatus("status").notNull().default("held"),
    /** the router pulling it while `pulled`: no other router may pull it until that one acks, nacks or goes */
    pulledBy: uuid("pulled_by"),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    statusChangedAt: timestamp("status_changed_at", { withTimezone: true }).notNull(),
    /** Consecutive nacks since the result was received (or replaced); the gateway offers it again with backoff. */
    deliveryAttempts: integer("delivery_attempts").notNull().default(0),
    /** When a nacked result is next offered to the tenant's connected routers. */
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }),
    lastFailureReason: text("last_failure_reason"),
    /** Set once the router has failed it repeatedly (result.delivery_failing); cleared by an ack. */
    deliveryFailingSince: timestamp("delivery_failing_since", { withTimezone: true }),
  },
  (t) => [
    // One live result per SOP instance per tenant: a second C-STORE replaces it.
    uniqueIndex("results_live_instance")
      .on(t.tenantSlug, t.sopInstanceUid)
      .where(sql`${t.status} in ('held', 'notified', 'pulled')`),
    index("results_tenant_received").on(t.tenantSlug, t.receivedAt, t.id),
    // The hold queue's filters (migration 0006).
    index("results_tenant_status_received").on(t.tenantSlug, t.status, t.receivedAt, t.id),
    index("results_tenant_calling_received").on(t.tenantSlug, t.callingAe, t.receivedAt, t.id),
    index("results_tenant_modality_received").on(t.tenantSlug, t.modality, t.receivedAt, t.id),
    index("results_expires").on(t.expiresAt),
  ],
);

/** The engine's own CA in self-hosted mode, created at first boot; its key is wrapped by the master key. */
export const engineCa = pgTable("engine_ca", {
  id: integer("id").primaryKey(),
  certPem: text("cert_pem").notNull(),
  wrappedKey: bytea("wrapped_key").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Enrolled routers: the certificates issued to them (never their private keys), and revocations. */
export const routerCerts = pgTable(
  "router_certs",
  {
    id: uuid("id").primaryKey(),
    tenantSlug: text("tenant_slug").notNull(),
    name: text("name").notNull(),
    serial: text("serial").notNull(),
    subject: text("subject").notNull(),
    fingerprint256: text("fingerprint256").notNull().unique(),
    notAfter: timestamp("not_after", { withTimezone: true }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    /** the called AE titles whose results this router is offered; empty: all of the tenant's */
    calledAeTitles: text("called_ae_titles").array().notNull().default(sql`'{}'`),
    // Health, kept here so it survives an engine restart (relay/router-health.ts).
    connectedSince: timestamp("connected_since", { withTimezone: true }),
    disconnectedAt: timestamp("disconnected_at", { withTimezone: true }),
    lastAddress: text("last_address"),
    lastHeartbeatAt: timestamp("last_heartbeat_at", { withTimezone: true }),
    lastPullAt: timestamp("last_pull_at", { withTimezone: true }),
    lastPullLatencyMs: integer("last_pull_latency_ms"),
    /** set when the router went silent past the stale threshold (announced once), cleared when it is heard again */
    staleSince: timestamp("stale_since", { withTimezone: true }),
  },
  (t) => [index("router_certs_tenant").on(t.tenantSlug)],
);

/**
 * One-time enrolment codes: the console shows the code once, the router presents it with a CSR it generated, and
 * the gateway issues its certificate. Only the code's hash is kept; a code is used once, before it expires.
 */
export const routerEnrolments = pgTable(
  "router_enrolments",
  {
    id: uuid("id").primaryKey(),
    tenantSlug: text("tenant_slug").notNull(),
    name: text("name").notNull(),
    codeSha256: text("code_sha256").notNull().unique(),
    /** given to the router's row at enrolment (router_certs.called_ae_titles) */
    calledAeTitles: text("called_ae_titles").array().notNull().default(sql`'{}'`),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    /** the router enrolled with it */
    routerId: uuid("router_id"),
  },
  (t) => [index("router_enrolments_tenant").on(t.tenantSlug)],
);

export const migrationStatus = pgEnum("migration_status", ["created", "discovering", "ready", "running", "paused", "completed", "failed"]);
export const migrationStudyStatus = pgEnum("migration_study_status", ["pending", "in_flight", "migrated", "quarantined", "skipped"]);

/** A tenant's archive-to-archive migration: its validated plan and where it stands. */
export const migrations = pgTable("migrations", {
  id: uuid("id").primaryKey(),
  tenantSlug: text("tenant_slug").notNull(),
  /** the plan the runners follow: the approved version in force (before any approval, the latest draft) */
  plan: jsonb("plan").notNull(),
  /** the approved plan version in force (migration_plan_versions); null until one is approved, and nothing runs */
  planVersion: integer("plan_version"),
  status: migrationStatus("status").notNull(),
  lastError: text("last_error"),
  /**
   * The number of the migration's latest study completion (migrated, quarantined or skipped). Each completion takes
   * the next number under this row's lock, held until it commits, so numbers follow commit order and a checkpoint
   * (migration_checkpoints.high_water) splits the studies exactly into done before it and after.
   */
  completionSeq: bigint("completion_seq", { mode: "number" }).notNull().default(0),
  /** whether the plan's window was open when the runners last looked: open → closed records a window_close checkpoint */
  windowOpenSeen: boolean("window_open_seen"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Every study a migration found at a source: one row per (migration, source, study), whatever becomes of it. */
export const migrationStudies = pgTable(
  "migration_studies",
  {
    migrationId: uuid("migration_id")
      .notNull()
      .references(() => migrations.id, { onDelete: "cascade" }),
    sourceId: text("source_id").notNull(),
    studyInstanceUid: text("study_instance_uid").notNull(),
    studyDate: text("study_date"),
    modalities: text("modalities").array().notNull(),
    instances: integer("instances"),
    /** per series, the instance count the source reported at discovery (SERIES-level C-FIND); null when not asked */
    seriesInstances: jsonb("series_instances").$type<Record<string, number>>(),
    status: migrationStudyStatus("status").notNull().default("pending"),
    discoveredAt: timestamp("discovered_at", { withTimezone: true }).notNull().defaultNow(),
    /** why it is quarantined: hash_mismatch, malformed_header, target_rejected, source_unavailable, … */
    quarantineCategory: text("quarantine_category"),
    /** the evidence a reviewer needs: offending elements, both hashes, the error */
    quarantineEvidence: jsonb("quarantine_evidence"),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    worker: text("worker"),
    /** an in-flight study's claim: the worker renews it; once it lapses (the worker died) any engine may take the study */
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    /** a reviewer's repair: tags to set before the study is run again */
    repairPatch: jsonb("repair_patch"),
    /** the latest review decision, with who signed it and what their signature means */
    decision: jsonb("decision"),
    /** the study's UID at the target: differs from the source's when the anonymization profile replaced UIDs */
    targetStudyInstanceUid: text("target_study_instance_uid"),
    /** what was applied on the way: the plan's tag rules for this study and any repair patch */
    transformApplied: jsonb("transform_applied"),
    /** the approved plan version the study was migrated under (its record names it) */
    planVersion: integer("plan_version"),
    /** the migration's completion number (migrations.completion_seq) of this study's latest completion; null while not done */
    completionSeq: bigint("completion_seq", { mode: "number" }),
  },
  (t) => [
    primaryKey({ columns: [t.migrationId, t.sourceId, t.studyInstanceUid] }),
    index("migration_studies_status").on(t.migrationId, t.status),
    // The roll-up trigger on migration_instances finds an instance's study by its UID (migration 0014).
    index("migration_studies_study").on(t.migrationId, t.studyInstanceUid),
  ],
);

/** Every instance a migration moved: both hashes (of the dataset without its file meta group) and when it was verified. */
export const migrationInstances = pgTable(
  "migration_instances",
  {
    migrationId: uuid("migration_id")
      .notNull()
      .references(() => migrations.id, { onDelete: "cascade" }),
    studyInstanceUid: text("study_instance_uid").notNull(),
    sopInstanceUid: text("sop_instance_uid").notNull(),
    sopClassUid: text("sop_class_uid").notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    /** where the instance came from (null before migration 0020): a later duplicate SOP Instance UID's evidence names it */
    sourceId: text("source_id"),
    seriesInstanceUid: text("series_instance_uid"),
    /** the file a filesystem or DICOMDIR source read it from */
    sourcePath: text("source_path"),
    /** the SOP instance UID at the target (differs when the anonymization profile replaced UIDs) */
    targetSopInstanceUid: text("target_sop_instance_uid"),
    /** as extracted from the source, before any transformation */
    sourceSha256: text("source_sha256").notNull(),
    /** after the transformation: what the target must hold */
    expectedSha256: text("expected_sha256"),
    targetSha256: text("target_sha256").notNull(),
    verifiedAt: timestamp("verified_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.migrationId, t.sopInstanceUid] }), index("migration_instances_study").on(t.migrationId, t.studyInstanceUid)],
);

export const checkpointReason = ["pause", "window_close", "hourly"] as const;

/**
 * Where a migration stood at a moment: at every pause, when a window closes on it and hourly while it runs. The
 * high-water mark is the migration's completion number then: studies with a higher number finished after it, and
 * a rollback to the checkpoint puts exactly those back to pending.
 */
export const migrationCheckpoints = pgTable(
  "migration_checkpoints",
  {
    id: uuid("id").primaryKey(),
    migrationId: uuid("migration_id")
      .notNull()
      .references(() => migrations.id, { onDelete: "cascade" }),
    /** 1, 2, … per migration */
    seq: integer("seq").notNull(),
    reason: text("reason", { enum: checkpointReason }).notNull(),
    takenAt: timestamp("taken_at", { withTimezone: true }).notNull(),
    highWater: bigint("high_water", { mode: "number" }).notNull(),
    /** { migrated, quarantined, skipped, pending } (pending counts what is in flight too) */
    counts: jsonb("counts").notNull(),
  },
  (t) => [uniqueIndex("migration_checkpoints_seq").on(t.migrationId, t.seq), check("migration_checkpoints_reason", sql`${t.reason} in ('pause', 'window_close', 'hourly')`)],
);

/**
 * A study's earlier outcome, kept when a rollback put it back to pending: its row as it was, its verified instances
 * and its record hash, with the checkpoint, the reason and who asked. The redo writes the new outcome on the study
 * row; both stay, here and in the event feed.
 */
export const migrationStudyHistory = pgTable(
  "migration_study_history",
  {
    // A uuid, not a serial: rows restored from a backup (scripts/migration-restore.ts) keep their ids without a
    // sequence behind them to collide with.
    id: uuid("id").primaryKey(),
    migrationId: uuid("migration_id")
      .notNull()
      .references(() => migrations.id, { onDelete: "cascade" }),
    sourceId: text("source_id").notNull(),
    studyInstanceUid: text("study_instance_uid").notNull(),
    checkpointId: uuid("checkpoint_id")
      .notNull()
      .references(() => migrationCheckpoints.id, { onDelete: "cascade" }),
    reason: text("reason").notNull(),
    /** { userId, name } */
    requestedBy: jsonb("requested_by").notNull(),
    supersededAt: timestamp("superseded_at", { withTimezone: true }).notNull(),
    /** the study row's outcome fields, its record hash and its migration_instances rows, as they were */
    previous: jsonb("previous").notNull(),
  },
  (t) => [index("migration_study_history_study").on(t.migrationId, t.sourceId, t.studyInstanceUid)],
);

/** A filesystem or DICOMDIR source's files, per study, as discovery found them: what extraction copies. */
export const migrationSourceFiles = pgTable(
  "migration_source_files",
  {
    migrationId: uuid("migration_id")
      .notNull()
      .references(() => migrations.id, { onDelete: "cascade" }),
    sourceId: text("source_id").notNull(),
    studyInstanceUid: text("study_instance_uid").notNull(),
    path: text("path").notNull(),
  },
  (t) => [primaryKey({ columns: [t.migrationId, t.sourceId, t.path] }), index("migration_source_files_study").on(t.migrationId, t.sourceId, t.studyInstanceUid)],
);

export * from "./quarantine-schema";
// ---- Migration roll-ups: kept by triggers (migration 0014's custom SQL), so dashboards never scan study rows ----

/** Studies and bytes finished per hour, by source and modality (the study's first modality). */
export const migrationHourly = pgTable(
  "migration_hourly",
  {
    migrationId: uuid("migration_id")
      .notNull()
      .references(() => migrations.id, { onDelete: "cascade" }),
    bucket: timestamp("bucket", { withTimezone: true }).notNull(),
    sourceId: text("source_id").notNull(),
    modality: text("modality").notNull(),
    migrated: integer("migrated").notNull().default(0),
    quarantined: integer("quarantined").notNull().default(0),
    bytes: bigint("bytes", { mode: "number" }).notNull().default(0),
    /** last change to this bucket: the dashboard's `since` poll returns buckets changed after it */
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.migrationId, t.bucket, t.sourceId, t.modality] }), index("migration_hourly_updated").on(t.migrationId, t.updatedAt)],
);

/** The same per UTC day and source: the dashboard's history before its hourly window, without scanning hours. */
export const migrationDaily = pgTable(
  "migration_daily",
  {
    migrationId: uuid("migration_id")
      .notNull()
      .references(() => migrations.id, { onDelete: "cascade" }),
    day: timestamp("day", { withTimezone: true }).notNull(),
    sourceId: text("source_id").notNull(),
    migrated: integer("migrated").notNull().default(0),
    quarantined: integer("quarantined").notNull().default(0),
    bytes: bigint("bytes", { mode: "number" }).notNull().default(0),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.migrationId, t.day, t.sourceId] }), index("migration_daily_updated").on(t.migrationId, t.updatedAt)],
);

/** Studies entering (+) and leaving (−, by a review decision) quarantine per hour and category: depth over time. */
export const migrationQuarantineHourly = pgTable(
  "migration_quarantine_hourly",
  {
    migrationId: uuid("migration_id")
      .notNull()
      .references(() => migrations.id, { onDelete: "cascade" }),
    bucket: timestamp("bucket", { withTimezone: true }).notNull(),
    category: text("category").notNull(),
    entered: integer("entered").notNull().default(0),
    left: integer("left").notNull().default(0),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.migrationId, t.bucket, t.category] }), index("migration_quarantine_hourly_updated").on(t.migrationId, t.updatedAt)],
);

/** Current study counts by source, modality, study year and status: breakdowns and totals without a scan. */
export const migrationTotals = pgTable(
  "migration_totals",
  {
    migrationId: uuid("migration_id")
      .notNull()
      .references(() => migrations.id, { onDelete: "cascade" }),
    sourceId: text("source_id").notNull(),
    modality: text("modality").notNull(),
    studyYear: text("study_year").notNull(),
    status: migrationStudyStatus("status").notNull(),
    studies: integer("studies").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.migrationId, t.sourceId, t.modality, t.studyYear, t.status] })],
);

/**
 * A migration plan as a controlled document: numbered immutable versions (1, 2, ...), each with the SHA-256 of its
 * canonical JSON, its author, and once approved the signer's e-signature (the console's signature record id). Rows
 * are only ever inserted, and approved once; migrations.plan follows the approved version in force.
 */
export const migrationPlanVersions = pgTable(
  "migration_plan_versions",
  {
    migrationId: uuid("migration_id")
      .notNull()
      .references(() => migrations.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    plan: jsonb("plan").notNull(),
    planSha256: text("plan_sha256").notNull(),
    /** { userId, name }, or null when the caller did not say (an API client without a person behind it) */
    author: jsonb("author"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** { userId, name, meaning, signatureId, signedAt } */
    approval: jsonb("approval"),
    approvedAt: timestamp("approved_at", { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.migrationId, t.version] }), check("migration_plan_versions_from_one", sql`${t.version} >= 1`)],
);
