// The engine admin API contract: these zod schemas are the source of truth. The engine validates requests and
// serves /openapi.json from them; the console's client (server/engine/client.ts) parses responses with them.
import { z } from "zod";

export const TenantSlug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "lowercase letters, digits and hyphens, 2 to 63 characters, not starting or ending with a hyphen")
  .min(2, "at least 2 characters")
  .meta({ description: "URL-safe tenant identifier", example: "northside" });

/**
 * A DICOM Application Entity title (PS3.5 AE VR): 1..16 characters of the default character repertoire, no
 * backslash, no control characters; leading and trailing spaces are not significant, so they are trimmed.
 */
export const AeTitle = z
  .string()
  .transform((s) => s.trim())
  .pipe(
    z
      .string()
      .min(1, "an AE title cannot be empty or only spaces")
      .max(16, "an AE title has at most 16 characters")
      .regex(/^[\x20-\x5b\x5d-\x7e]+$/, "only printable ASCII characters, no backslash and no control characters"),
  )
  .meta({ description: "DICOM AE title", example: "NORTHSIDE" });

const unique = (list: string[]) => new Set(list).size === list.length;

/** Why and since when a tenant is suspended (the reason is what its routers are told). */
export const TenantSuspension = z
  .object({
    since: z.iso.datetime({ offset: true }),
    reason: z.string().trim().min(1, "give a reason").max(500, "at most 500 characters"),
  })
  .meta({ id: "TenantSuspension" });
export type TenantSuspension = z.infer<typeof TenantSuspension>;

/**
 * A private (non-standard) storage SOP class a tenant accepts: a valid UID outside the DICOM root, since standard
 * storage classes are accepted anyway and the others under 1.2.840.10008 are services, not storage.
 */
export const PrivateSopClassUid = z
  .string()
  .trim()
  .max(64, "a UID has at most 64 characters")
  .regex(/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/, "a UID: numbers separated by dots, no leading zeros")
  .refine((u) => !u.startsWith("1.2.840.10008."), "a standard DICOM UID (1.2.840.10008…): standard storage classes are accepted already");

export const TenantConfig = z
  .object({
    ttlDays: z
      .number({ error: "ttlDays must be a whole number of days" })
      .int("ttlDays must be a whole number of days")
      .min(1, "ttlDays must be at least 1 day")
      .max(30, "ttlDays must be at most 30 days"),
    calledAeTitles: z.array(AeTitle).refine(unique, "called AE titles must be unique"),
    allowedCallingAeTitles: z.array(AeTitle).refine(unique, "calling AE titles must be unique"),
    version: z.number().int().min(1, "version starts at 1"),
    privateSopClasses: z
      .array(PrivateSopClassUid)
      .max(100, "at most 100 private SOP classes")
      .refine(unique, "private SOP classes must be unique")
      .optional()
      .meta({ description: "private storage SOP classes the tenant's called AE titles accept besides the standard ones (none when absent)" }),
    suspended: TenantSuspension.nullable()
      .optional()
      .meta({ description: "set while an engineer has suspended the tenant: its called AE titles are refused and its routers disconnected; nothing held is deleted" }),
  })
  .strict()
  .meta({ id: "TenantConfig", description: "A tenant's relay configuration, as desired by the console" });
export type TenantConfig = z.infer<typeof TenantConfig>;

export const AppliedTenantConfig = TenantConfig.extend({
  slug: TenantSlug,
  appliedAt: z.iso.datetime({ offset: true }),
}).meta({ id: "AppliedTenantConfig" });
export type AppliedTenantConfig = z.infer<typeof AppliedTenantConfig>;

export const ApiError = z
  .object({
    error: z.string().meta({ example: "invalid_request" }),
    message: z.string(),
    fields: z.record(z.string(), z.array(z.string())).optional(),
    requestId: z.string().optional(),
  })
  .meta({ id: "ApiError" });
export type ApiError = z.infer<typeof ApiError>;

export const Health = z.object({ status: z.literal("ok"), database: z.literal("ok") }).meta({ id: "Health" });

export const ResultStatus = z.enum(["held", "notified", "pulled", "acked", "expired", "purged"]);
export const Uid = z.string().regex(/^[0-9.]{1,64}$/, "a DICOM UID: digits and dots, at most 64 characters");

export const HeldResult = z
  .object({
    id: z.uuid(),
    tenantSlug: TenantSlug,
    callingAe: z.string(),
    calledAe: z.string(),
    peerAddress: z.string(),
    sopClassUid: z.string(),
    sopInstanceUid: z.string(),
    studyInstanceUid: z.string().nullable(),
    seriesInstanceUid: z.string().nullable(),
    modality: z.string().nullable(),
    transferSyntaxUid: z.string(),
    sizeBytes: z.number().int(),
    sha256: z.string(),
    status: ResultStatus,
    receivedAt: z.iso.datetime({ offset: true }),
    expiresAt: z.iso.datetime({ offset: true }),
    statusChangedAt: z.iso.datetime({ offset: true }),
    /** consecutive nacks from the tenant's router since the result was received; retried with backoff */
    deliveryAttempts: z.number().int().nonnegative(),
    nextAttemptAt: z.iso.datetime({ offset: true }).nullable(),
    lastFailureReason: z.string().nullable(),
    /** set after repeated nacks (result.delivery_failing) until an ack clears it; the reason is the router's */
    deliveryFailing: z.object({ since: z.iso.datetime({ offset: true }), reason: z.string(), attempts: z.number().int() }).nullable(),
  })
  .meta({ id: "HeldResult" });
export type HeldResult = z.infer<typeof HeldResult>;

export const EngineEvent = z
  .object({
    seq: z.number().int(),
    tenantSlug: z.string().nullable(),
    type: z.string().meta({ example: "result.received" }),
    payload: z.record(z.string(), z.unknown()),
    at: z.iso.datetime({ offset: true }),
  })
  .meta({ id: "EngineEvent" });
export type EngineEvent = z.infer<typeof EngineEvent>;

export const ResultDetail = HeldResult.extend({ timeline: z.array(EngineEvent) }).meta({ id: "ResultDetail" });

const statusList = z
  .string()
  .transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(ResultStatus));

export const ResultQuery = z.object({
  status: statusList.optional().meta({ description: "comma-separated statuses" }),
  callingAe: z.string().trim().min(1).max(16).optional(),
  modality: z.string().trim().min(1).max(16).optional(),
  sopClassUid: Uid.optional(),
  receivedFrom: z.iso.datetime({ offset: true }).optional(),
  receivedTo: z.iso.datetime({ offset: true }).optional(),
  uid: Uid.optional().meta({ description: "matches the study, series or SOP instance UID exactly" }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional().meta({ description: "nextCursor of the previous page" }),
});
export type ResultQuery = z.infer<typeof ResultQuery>;

export const ResultPage = z
  .object({ results: z.array(HeldResult), nextCursor: z.string().nullable() })
  .meta({ id: "ResultPage" });

export const PurgeRequest = z
  .object({ reason: z.string().trim().min(3, "a reason of at least 3 characters is required").max(500) })
  .strict()
  .meta({ id: "PurgeRequest" });

/** Offboarding a (suspended) tenant: the reason is recorded with every purge and in the receipt. */
export const OffboardRequest = PurgeRequest.meta({ id: "OffboardRequest" });

/** What offboarding removed: counts the console keeps with the tenant's record and shows its engineers. */
export const OffboardReceipt = z
  .object({
    slug: TenantSlug,
    offboardedAt: z.iso.datetime({ offset: true }),
    reason: z.string(),
    resultsPurged: z.number().int().min(0),
    evidenceDeleted: z.number().int().min(0),
    migrationsDeleted: z.number().int().min(0),
    routersRevoked: z.number().int().min(0),
    /** the tenant's data key is gone: bytes left in a segment file or a backup can no longer be decrypted */
    dataKeyDestroyed: z.boolean(),
  })
  .meta({ id: "OffboardReceipt" });
export type OffboardReceipt = z.infer<typeof OffboardReceipt>;

export const EventFeedQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export const EventFeed = z.object({ events: z.array(EngineEvent), nextAfter: z.number().int() }).meta({ id: "EventFeed" });

export const EnrollRouterRequest = z
  .object({
    name: z.string().trim().min(1, "give the router a name, e.g. its site or host").max(100),
    calledAeTitles: z
      .array(AeTitle)
      .max(50)
      .refine(unique, "called AE titles must be unique")
      .optional()
      .meta({ description: "only results sent to these called AE titles are offered to this router (absent or empty: all)" }),
  })
  .strict()
  .meta({ id: "EnrollRouterRequest" });

export const RouterInfo = z
  .object({
    id: z.uuid(),
    name: z.string(),
    subject: z.string(),
    serial: z.string(),
    notAfter: z.iso.datetime({ offset: true }),
    enrolledAt: z.iso.datetime({ offset: true }),
    revokedAt: z.iso.datetime({ offset: true }).nullable(),
    connected: z.boolean(),
    address: z.string().nullable(),
    /** the current connection's start, or the last one's when offline */
    connectedSince: z.iso.datetime({ offset: true }).nullable(),
    disconnectedAt: z.iso.datetime({ offset: true }).nullable(),
    lastHeartbeat: z.iso.datetime({ offset: true }).nullable(),
    /** the called AE titles whose results it is offered; empty: all */
    calledAeTitles: z.array(z.string()),
    lastPullAt: z.iso.datetime({ offset: true }).nullable(),
    lastPullLatencyMs: z.number().nullable(),
    /** set while the router has been silent past the engine's stale threshold */
    staleSince: z.iso.datetime({ offset: true }).nullable(),
  })
  .meta({ id: "RouterInfo" });
export type RouterInfo = z.infer<typeof RouterInfo>;

/** A code the console issued that no router has used yet. */
export const PendingEnrolment = z.object({ id: z.uuid(), name: z.string(), createdAt: z.iso.datetime({ offset: true }), expiresAt: z.iso.datetime({ offset: true }) });

export const RouterList = z
  .object({ routers: z.array(RouterInfo), pendingResults: z.number().int(), enrolments: z.array(PendingEnrolment) })
  .meta({ id: "RouterList" });

/**
 * A one-time enrolment code, shown once: the router presents it with a CSR it generated to the gateway's
 * POST /enrol. No private key passes through the engine or the console.
 */
export const RouterEnrolment = z
  .object({
    enrolment: z.object({ id: z.uuid(), name: z.string(), expiresAt: z.iso.datetime({ offset: true }) }),
    code: z.string(),
    gatewayUrl: z.string(),
    caCertificatePem: z.string(),
  })
  .meta({ id: "RouterEnrolment" });
export type RouterEnrolment = z.infer<typeof RouterEnrolment>;

export const RetentionPreviewQuery = z.object({
  ttlDays: z.coerce
    .number({ error: "ttlDays must be a whole number of days" })
    .int("ttlDays must be a whole number of days")
    .min(1, "ttlDays must be at least 1 day")
    .max(30, "ttlDays must be at most 30 days"),
});

/** What a TTL change would do to the results still in the queue, computed from the live queue. */
export const RetentionPreview = z
  .object({
    ttlDays: z.number().int(),
    live: z.number().int().meta({ description: "results still held, notified or pulled" }),
    expireImmediately: z.number().int().meta({ description: "would be past their new expiry at once" }),
    gainTime: z.number().int(),
    loseTime: z.number().int().meta({ description: "expire sooner, but not at once" }),
    unchanged: z.number().int(),
  })
  .meta({ id: "RetentionPreview" });
export type RetentionPreview = z.infer<typeof RetentionPreview>;

// ---- Migrations --------------------------------------------------------------------------------------------

const Port = z.number({ error: "port must be a number" }).int().min(1, "port must be 1..65535").max(65535, "port must be 1..65535");
const Host = z.string().trim().min(1, "give a host name or address").max(253);
const SourceId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "a source id is 1..40 lowercase letters, digits and hyphens");
const IsoDate = z.iso.date({ error: "a date as YYYY-MM-DD" });
const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "a time as HH:MM (24 h)");
/** A data element tag as 8 hex digits, group then element: 00100010 is PatientName. */
export const Tag = z.string().regex(/^[0-9A-Fa-f]{8}$/, "a tag as 8 hex digits, e.g. 00100010").transform((t) => t.toUpperCase());

// C-GET needs nothing configured at the archive; C-MOVE needs the archive to know the engine's move AE title, and
// keeps the stored encoding where an archive answering C-GET would re-encode (e.g. implicit VR as explicit).
const Retrieve = z
  .enum(["c-get", "c-move"], { error: "retrieve is c-get or c-move" })
  .default("c-get")
  .meta({ description: "how the engine retrieves studies from this archive (extraction, or verification at a target)" });
const DicomPeerFields = { aeTitle: AeTitle, host: Host, port: Port, callingAeTitle: AeTitle.default("IMGOPS_MIGRATE") };

export const MigrationSource = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("dicom"),
      id: SourceId,
      ...DicomPeerFields,
      retrieve: Retrieve,
      findLimit: z.number().int().min(0, "0 means the archive has no C-FIND result limit").default(0).meta({ description: "the archive's C-FIND result cap (0: none)" }),
    })
    .strict(),
  z.object({ kind: z.literal("filesystem"), id: SourceId, path: z.string().min(1, "give the folder (or DICOMDIR) path") }).strict(),
]);

export const MigrationTarget = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("dicom"), ...DicomPeerFields, retrieve: Retrieve }).strict(),
  z.object({ kind: z.literal("stow-rs"), url: z.url({ error: "a STOW-RS URL" }) }).strict(),
  // A PS3.10 file-set (folders of Part 10 files and a DICOMDIR) under the tenant's export folder: offline hand-off, legal hold.
  z.object({ kind: z.literal("filesystem"), path: z.string().min(1, "give the export folder's path") }).strict(),
]);

const validTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const MigrationWindows = z
  .object({
    timeZone: z.string().refine(validTimeZone, "an IANA time zone, e.g. Europe/Berlin"),
    intervals: z
      .array(
        z.object({
          days: z.array(z.enum(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])).min(1, "at least one day"),
          start: ClockTime,
          end: ClockTime.meta({ description: "before start means the window runs past midnight" }),
        }),
      )
      .min(1, "at least one interval (leave windows out to run at any time)")
      .max(50),
  })
  .strict();

const RuleScope = { sources: z.array(SourceId).optional(), modalities: z.array(z.string().regex(/^[A-Z]{1,16}$/)).optional() };
export const TransformRule = z.discriminatedUnion("op", [
  z.object({ op: z.literal("set"), tag: Tag, value: z.string().max(1024), ...RuleScope }).strict(),
  z.object({ op: z.literal("remove"), tag: Tag, ...RuleScope }).strict(),
  z.object({ op: z.literal("map"), tag: Tag, values: z.record(z.string(), z.string()), ...RuleScope }).strict(),
  z.object({ op: z.literal("remove-private"), groups: z.array(z.number().int().min(9).max(0xffff)).optional(), creators: z.array(z.string()).optional(), ...RuleScope }).strict(),
  z.object({ op: z.literal("anonymize"), profile: z.literal("basic"), ...RuleScope }).strict(),
]);

export const MigrationPlan = z
  .object({
    name: z.string().trim().min(1, "give the migration a name").max(120),
    sources: z
      .array(MigrationSource)
      .min(1, "at least one source")
      .max(10)
      .refine((s) => new Set(s.map((x) => x.id)).size === s.length, "source ids must be unique"),
    target: MigrationTarget,
    filters: z
      .object({ studyDateFrom: IsoDate, studyDateTo: IsoDate, modalities: z.array(z.string().regex(/^[A-Z]{1,16}$/, "a modality code, e.g. CT")).default([]) })
      .strict()
      .refine((f) => f.studyDateFrom <= f.studyDateTo, { message: "studyDateTo is before studyDateFrom", path: ["studyDateTo"] }),
    priority: z.number().int().min(0).max(100).default(50),
    concurrency: z.number().int().min(1, "at least 1 worker").max(16, "at most 16 workers").default(2),
    bandwidth: z
      .object({ overallBytesPerSecond: z.number().int().positive().optional(), perSourceBytesPerSecond: z.number().int().positive().optional() })
      .strict()
      .default({}),
    windows: MigrationWindows.optional(),
    transforms: z.array(TransformRule).max(200).default([]),
  })
  .strict()
  .meta({ id: "MigrationPlan" });
export type MigrationPlan = z.infer<typeof MigrationPlan>;

export const MigrationStatus = z.enum(["created", "discovering", "ready", "running", "paused", "completed", "failed"]);
export const Migration = z
  .object({
    id: z.uuid(),
    tenantSlug: TenantSlug,
    status: MigrationStatus,
    plan: MigrationPlan,
    lastError: z.string().nullable(),
    createdAt: z.iso.datetime({ offset: true }),
    counts: z.object({
      discovered: z.number().int(),
      pending: z.number().int(),
      inFlight: z.number().int(),
      migrated: z.number().int(),
      quarantined: z.number().int(),
      skipped: z.number().int(),
    }),
    // The plan as a controlled document (migration/plan-versions.ts); always sent by this engine.
    version: z.number().int().optional().meta({ description: "the latest plan version (0 for a migration that predates versions)" }),
    versionInForce: z.number().int().nullable().optional().meta({ description: "the approved version the runners follow; null until one is approved (nothing is discovered or started before)" }),
    pendingVersion: z.number().int().nullable().optional().meta({ description: "the latest version when it awaits approval" }),
    discovery: z
      .object({ queries: z.number().int(), matches: z.number().int(), current: z.string() })
      .nullable()
      .optional()
      .meta({ description: "while discovery runs: the C-FINDs asked so far, the studies they matched (before deduplication), and what it is asking now" }),
  })
  .meta({ id: "Migration" });

export const QuarantinedStudy = z
  .object({
    sourceId: z.string(),
    studyInstanceUid: z.string(),
    studyDate: z.string().nullable(),
    modalities: z.array(z.string()),
    category: z.string(),
    evidence: z.record(z.string(), z.unknown()),
    decision: z.record(z.string(), z.unknown()).nullable(),
    finishedAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .meta({ id: "QuarantinedStudy" });

// ---- plan versions: numbered, immutable, hashed, approved by an e-signature ------------------------------------

/** Who wrote a plan version, as the console names them. */
export const PlanAuthor = z.object({ userId: z.string().min(1), name: z.string().min(1) }).strict().meta({ id: "PlanAuthor" });

/** A new migration: the plan (version 1) and, from the console, who wrote it (the two-person rule compares with it). */
export const CreateMigrationRequest = MigrationPlan.extend({ createdBy: PlanAuthor.optional().meta({ description: "the author of version 1" }) })
  .strict()
  .meta({ id: "CreateMigrationRequest" });

/** The next version of a migration's plan; it takes effect once approved. */
export const PlanVersionRequest = z.object({ plan: MigrationPlan, changedBy: PlanAuthor }).strict().meta({ id: "PlanVersionRequest" });

/** The approval of a version: an e-signature the console recorded (its id and time), with what it means. */
export const PlanApprovalRequest = z
  .object({
    signer: z.object({
      userId: z.string().min(1),
      name: z.string().min(1),
      meaning: z.string().min(3, "what the signature means, e.g. 'approved'"),
      signatureId: z.string().min(1, "the console's signature record id"),
      signedAt: z.iso.datetime({ offset: true }),
    }),
    requireDifferentPerson: z.boolean().meta({ description: "the tenant's two-person rule: the author may not approve their own version" }),
  })
  .strict()
  .meta({ id: "PlanApprovalRequest" });

export const PlanVersion = z
  .object({
    version: z.number().int().min(1),
    plan: MigrationPlan,
    /** SHA-256 over the plan's canonical JSON (study-record.ts canonicalJson) */
    planSha256: z.string(),
    author: PlanAuthor.nullable(),
    createdAt: z.iso.datetime({ offset: true }),
    approval: z.object({ userId: z.string(), name: z.string(), meaning: z.string(), signatureId: z.string(), signedAt: z.string() }).nullable(),
    approvedAt: z.iso.datetime({ offset: true }).nullable(),
    /** in_force: the runners follow it; approved: was in force, replaced; pending: latest, awaiting approval; superseded: never approved, a later version exists */
    state: z.enum(["in_force", "approved", "pending", "superseded"]),
  })
  .meta({ id: "PlanVersion" });
export type PlanVersion = z.infer<typeof PlanVersion>;
export const PlanVersionList = z.object({ versions: z.array(PlanVersion), versionInForce: z.number().int().nullable() }).meta({ id: "PlanVersionList" });

/** One element of a repair patch: set an element's value (dcmodify -i) or remove it (-ea). */
export const PatchOp = z
  .object({
    op: z.enum(["set", "remove"], { error: "op is set or remove" }).default("set"),
    tag: Tag,
    value: z.string().max(1024, "at most 1024 characters").optional(),
  })
  .strict()
  .refine((p) => p.op === "remove" || p.value !== undefined, { message: "set needs a value", path: ["value"] })
  .meta({ id: "PatchOp" });

/** Who signed a decision and what the signature means; the console adds its signature record's id and times. */
export const Signer = z.object({
  userId: z.string().min(1),
  name: z.string().min(1),
  meaning: z.string().min(3, "what the signature means, e.g. 'reviewed and approved'"),
  email: z.string().optional(),
  signatureId: z.string().optional(),
  signedAt: z.iso.datetime({ offset: true }).optional(),
});

/** What every review decision carries: the decision, its reason, a repair's patch, the signer and its meaning. */
const DecisionFields = {
  decision: z.enum(["repair", "retry", "skip", "escalate"], { error: "decision is repair, retry, skip or escalate" }),
  reason: z.string().trim().min(3, "give a reason of at least 3 characters").max(2000),
  patch: z.array(PatchOp).max(50).optional(),
  signer: Signer,
};
const repairHasPatch = (d: { decision: string; patch?: unknown[] }) => d.decision !== "repair" || (d.patch?.length ?? 0) > 0;
const REPAIR_NEEDS_PATCH = { message: "a repair needs a tag patch", path: ["patch"] };
// Retry is not repair: the study runs again exactly as it is, so a tag patch belongs to a repair.
const retryHasNoPatch = (d: { decision: string; patch?: unknown[] }) => d.decision !== "retry" || !d.patch?.length;
const RETRY_TAKES_NO_PATCH = { message: "a retry runs the study unchanged: a tag patch makes it a repair", path: ["patch"] };
/** Categories a transient cause explains (the source or target away, a study served short): retried as they are. */
export const RETRYABLE_CATEGORIES = ["source_unavailable", "target_rejected", "incomplete_study"] as const;

/** A reviewer's decision, passed by the console with the signer's identity and what the signature means. */
export const ReviewDecision = z
  .object({ sourceId: z.string().min(1), studyInstanceUid: Uid, ...DecisionFields })
  .strict()
  .refine(repairHasPatch, REPAIR_NEEDS_PATCH)
  .refine(retryHasNoPatch, RETRY_TAKES_NO_PATCH)
  .meta({ id: "ReviewDecision" });

/** A quarantined study across a tenant's migrations: `${migrationId}~${sourceId}~${studyInstanceUid}`. */
export const QuarantineItemId = z
  .string()
  .regex(/^[0-9a-f-]{36}~[a-z0-9][a-z0-9-]{0,39}~[0-9.]{1,64}$/, "not a quarantine item id")
  .meta({ param: { name: "itemId", in: "path" } });
export const QuarantineCategory = z.enum(["hash_mismatch", "malformed_header", "character_set", "corrupt_pixel_data", "transform_error", "target_rejected", "source_unavailable", "incomplete_study", "duplicate_uid"]);
/** Where an item stands in review: open ones are new, escalated or repairing (re-running after a repair). */
export const QuarantineState = z.enum(["new", "escalated", "repairing", "resolved", "skipped"]);

export const QuarantineItem = z
  .object({
    id: QuarantineItemId,
    migrationId: z.uuid(),
    migrationName: z.string(),
    sourceId: z.string(),
    studyInstanceUid: z.string(),
    studyDate: z.string().nullable(),
    modalities: z.array(z.string()),
    category: z.string(),
    reason: z.string(),
    evidence: z.record(z.string(), z.unknown()),
    state: QuarantineState,
    decision: z.record(z.string(), z.unknown()).nullable(),
    quarantinedAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .meta({ id: "QuarantineItem" });

export const QuarantineQuery = z.object({
  category: QuarantineCategory.optional(),
  state: z.enum(["open", ...QuarantineState.options], { error: "state is open, new, escalated, repairing, resolved or skipped" }).default("open"),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const QuarantinePage = z
  .object({
    items: z.array(QuarantineItem),
    /** open items per category (the queue's tabs) */
    counts: z.record(z.string(), z.number().int()),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: "QuarantinePage" });

export const EvidenceInstance = z
  .object({
    id: z.uuid(),
    side: z.enum(["source", "target"]),
    sopInstanceUid: z.string().nullable(),
    position: z.number().int(),
    sizeBytes: z.number().int(),
    sha256: z.string(),
  })
  .meta({ id: "EvidenceInstance" });

export const QuarantineDetail = z.object({ item: QuarantineItem, instances: z.array(EvidenceInstance) }).meta({ id: "QuarantineDetail" });

export const HeaderElement = z.object({ tag: z.string(), path: z.string(), name: z.string(), vr: z.string(), length: z.number(), value: z.string(), problem: z.string().optional() });
export const EvidenceHeader = z
  .object({ transferSyntaxUid: z.string().nullable(), elements: z.array(HeaderElement), error: z.string().nullable() })
  .meta({ id: "EvidenceHeader" });

export const EvidenceDiff = z
  .object({
    sopInstanceUid: z.string().nullable(),
    expectedSha256: z.string().nullable(),
    targetSha256: z.string().nullable(),
    /** elements (by path, sequences included) whose values differ between the source and target copies */
    differences: z.array(z.object({ path: z.string(), tag: z.string(), name: z.string(), vr: z.string(), source: z.string().nullable(), target: z.string().nullable() })),
  })
  .meta({ id: "EvidenceDiff" });

/** A decision on one item; the engine knows the study from the item id. */
export const ItemDecision = z.object(DecisionFields).strict().refine(repairHasPatch, REPAIR_NEEDS_PATCH).refine(retryHasNoPatch, RETRY_TAKES_NO_PATCH).meta({ id: "ItemDecision" });

// ---- Migration control and dashboards --------------------------------------------------------------------------

/** Settings an engineer may change on a migration while it runs; runners pick them up before their next study. */
export const MigrationSettings = z
  .object({
    windows: MigrationWindows.nullable().optional().meta({ description: "null: run at any time" }),
    bandwidth: z
      .object({
        overallBytesPerSecond: z.number().int().positive("a cap is a positive number of bytes per second").nullable().optional(),
        perSourceBytesPerSecond: z.number().int().positive("a cap is a positive number of bytes per second").nullable().optional(),
      })
      .strict()
      .optional()
      .meta({ description: "null removes a cap" }),
    priority: z.number().int().min(0, "priority is 0..100").max(100, "priority is 0..100").optional(),
    concurrency: z.number().int().min(1, "at least 1 worker").max(16, "at most 16 workers").optional(),
    changedBy: z.object({ userId: z.string().min(1), name: z.string().min(1) }).optional().meta({ description: "who changed it, for the event feed" }),
  })
  .strict()
  .refine((s) => s.windows !== undefined || s.bandwidth !== undefined || s.priority !== undefined || s.concurrency !== undefined, "change at least one setting")
  .meta({ id: "MigrationSettings" });
export type MigrationSettings = z.infer<typeof MigrationSettings>;

// ---- Checkpoints and rollback (migration/checkpoints.ts) ---------------------------------------------------------

export const CheckpointReason = z.enum(["pause", "window_close", "hourly"]);

export const MigrationCheckpoint = z
  .object({
    id: z.uuid(),
    seq: z.number().int().min(1),
    reason: CheckpointReason,
    takenAt: z.iso.datetime({ offset: true }),
    /** the migration's completion number then: studies completed after it have higher numbers */
    highWater: z.number().int(),
    counts: z.object({ migrated: z.number().int(), quarantined: z.number().int(), skipped: z.number().int(), pending: z.number().int() }),
  })
  .meta({ id: "MigrationCheckpoint" });
export type MigrationCheckpoint = z.infer<typeof MigrationCheckpoint>;
export const MigrationCheckpointList = z.object({ checkpoints: z.array(MigrationCheckpoint) }).meta({ id: "MigrationCheckpointList" });

/** Back to a checkpoint: the studies completed after it are redone; who asks and why go into the event feed. */
export const RollbackRequest = z
  .object({
    checkpointId: z.uuid("not a checkpoint id"),
    reason: z.string().trim().min(3, "give a reason of at least 3 characters").max(2000),
    requestedBy: PlanAuthor,
  })
  .strict()
  .meta({ id: "RollbackRequest" });

export const RolledBackStudy = z.object({
  sourceId: z.string(),
  studyInstanceUid: z.string(),
  previousStatus: z.enum(["migrated", "quarantined", "skipped"]),
  /** the record hash of its study_migrated event (null for a study that was quarantined or skipped) */
  previousRecordHash: z.string().nullable(),
  completionSeq: z.number().int(),
});

export const RollbackResult = z
  .object({ migration: Migration, checkpoint: MigrationCheckpoint, studies: z.array(RolledBackStudy) })
  .meta({ id: "RollbackResult" });
export type RollbackResult = z.infer<typeof RollbackResult>;

const ThroughputBucket = z.object({ bucket: z.string(), source: z.string(), migrated: z.number().int(), quarantined: z.number().int(), bytes: z.number() });

export const MigrationDashboard = z
  .object({
    migration: Migration,
    /** when these figures were read: pass it back as `since` to get only what changed after it */
    asOf: z.iso.datetime({ offset: true }),
    windowOpenNow: z.boolean(),
    /** hourly buckets from here on, daily ones before */
    hourlyFrom: z.iso.datetime({ offset: true }),
    hourly: z.array(ThroughputBucket),
    daily: z.array(ThroughputBucket),
    quarantine: z.array(z.object({ bucket: z.string(), category: z.string(), entered: z.number().int(), left: z.number().int() })),
    breakdown: z.array(z.object({ source: z.string(), modality: z.string(), studyYear: z.string(), status: z.string(), studies: z.number().int() })),
    events: z.array(z.object({ id: z.number().int(), type: z.string(), createdAt: z.string(), payload: z.record(z.string(), z.unknown()) })),
  })
  .meta({ id: "MigrationDashboard" });
export type MigrationDashboard = z.infer<typeof MigrationDashboard>;

// Closeout proofs: the reconciliation re-inventories the source and the target themselves and compares them with the
// engine's records; the verification report carries each migrated study's record (study-record.ts) and its hash.
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a SHA-256 in lowercase hex");
export const ReconciliationDifference = z
  .object({
    sourceId: z.string().nullable(),
    studyInstanceUid: z.string(),
    kind: z.enum(["missing_at_target", "instances_missing_at_target", "never_discovered", "instance_count_changed", "gone_from_source", "not_finished", "source_unreadable", "target_unreadable"]),
    message: z.string(),
  })
  .meta({ id: "ReconciliationDifference" });
export const MigrationReconciliation = z
  .object({
    migrationId: z.uuid(),
    reconciledAt: z.iso.datetime(),
    balanced: z.boolean(),
    sources: z.array(
      z.object({ source: z.string(), studiesAtSource: z.number().int(), instancesAtSource: z.number().int(), migrated: z.number().int(), quarantined: z.number().int(), skipped: z.number().int(), remaining: z.number().int() }),
    ),
    target: z.object({ studiesChecked: z.number().int(), instancesExpected: z.number().int(), instancesPresent: z.number().int() }),
    quarantined: z.array(z.object({ category: z.string(), studies: z.number().int() })),
    differences: z.array(ReconciliationDifference),
  })
  .meta({ id: "MigrationReconciliation" });
export type MigrationReconciliation = z.infer<typeof MigrationReconciliation>;

export const SampleVerificationRequest = z
  .object({
    sample: z.number({ error: "the sample size is a number of instances" }).int().min(1, "check at least one instance").max(1000, "at most 1000 instances in one sample"),
    seed: z.string().trim().min(1).max(64, "a seed of at most 64 characters").optional().meta({ description: "picks the same instances again from the exported report; random when absent" }),
  })
  .strict()
  .meta({ id: "SampleVerificationRequest" });
export const SampleVerification = z
  .object({
    migrationId: z.uuid(),
    verifiedAt: z.iso.datetime(),
    seed: z.string(),
    requested: z.number().int(),
    /** instances recorded as verified, the population the sample is drawn from */
    recorded: z.number().int(),
    reportSha256: z.string(),
    checked: z.number().int(),
    matched: z.number().int(),
    mismatched: z.number().int(),
    missing: z.number().int(),
    results: z.array(z.object({ studyInstanceUid: z.string(), targetSopInstanceUid: z.string(), expectedSha256: z.string(), foundSha256: z.string().nullable(), result: z.enum(["match", "mismatch", "missing"]) })),
  })
  .meta({ id: "SampleVerification" });
export type SampleVerification = z.infer<typeof SampleVerification>;

export const StudyRecordSchema = z
  .object({
    migrationId: z.uuid(),
    sourceId: z.string(),
    studyInstanceUid: z.string(),
    targetStudyInstanceUid: z.string(),
    instances: z.array(z.object({ sourceSopInstanceUid: z.string(), targetSopInstanceUid: z.string(), sourceSha256: Sha256, expectedSha256: Sha256, targetSha256: Sha256 })),
    instanceCount: z.number().int(),
    bytes: z.number().int(),
    migratedAt: z.iso.datetime(),
    planVersion: z.number().int().nullable().optional(),
  })
  .strict();
export const VerificationReport = z
  .object({
    format: z.literal("imgops-migration-report/1", { error: "not a migration verification report (format imgops-migration-report/1)" }),
    migrationId: z.uuid(),
    tenantSlug: z.string(),
    generatedAt: z.iso.datetime(),
    target: MigrationTarget,
    studies: z.array(z.object({ record: StudyRecordSchema, recordHash: Sha256 }).strict()),
    instances: z.array(
      z.object({
        studyInstanceUid: z.string(),
        sopInstanceUid: z.string(),
        targetStudyInstanceUid: z.string(),
        targetSopInstanceUid: z.string(),
        sopClassUid: z.string(),
        sizeBytes: z.number().int(),
        sourceSha256: Sha256,
        expectedSha256: Sha256,
        targetSha256: Sha256,
        verifiedAt: z.iso.datetime(),
      }),
    ),
    /** SHA-256 over the report's canonical JSON without this field (study-record.ts reportCanonical) */
    reportSha256: Sha256,
  })
  .strict()
  .meta({ id: "VerificationReport" });
export type VerificationReport = z.infer<typeof VerificationReport>;

// ---- connection tests (one endpoint of a plan, saved or not) ----------------------------------------------------

export const ConnectionTestRequest = z
  .discriminatedUnion("role", [
    z.object({ role: z.literal("source"), endpoint: MigrationSource }).strict(),
    z.object({ role: z.literal("target"), endpoint: MigrationTarget }).strict(),
  ])
  .meta({ id: "ConnectionTestRequest" });
export type ConnectionTestRequest = z.infer<typeof ConnectionTestRequest>;

export const ConnectionCheck = z.object({
  check: z.enum(["c-echo", "c-find", "qido-rs", "folder"]),
  ok: z.boolean(),
  /** what happened, in words a PACS administrator can act on */
  message: z.string(),
  /** the failure class, for callers that treat them differently */
  failure: z.enum(["refused", "called-ae-unknown", "calling-ae-unknown", "rejected", "timeout", "not-found", "tls", "query-refused", "http", "unreadable", "failed"]).optional(),
});
export const ConnectionTestResult = z.object({ ok: z.boolean(), checks: z.array(ConnectionCheck) }).meta({ id: "ConnectionTestResult" });
export type ConnectionTestResult = z.infer<typeof ConnectionTestResult>;

export const MigrationInventory = z
  .object({
    studies: z.number().int(),
    instances: z.number().int(),
    /** studies whose instance count the source did not report (counted as 0 instances) */
    instancesUnknown: z.number().int(),
    rows: z.array(z.object({ sourceId: z.string(), modality: z.string(), year: z.string(), studies: z.number().int(), instances: z.number().int() })),
  })
  .meta({ id: "MigrationInventory" });
export type MigrationInventory = z.infer<typeof MigrationInventory>;

export const TransformPreviewRequest = z
  .object({ plan: MigrationPlan, sourceId: SourceId.meta({ description: "the plan's source to take a sample study from" }) })
  .strict()
  .meta({ id: "TransformPreviewRequest" });
export const TransformPreview = z
  .object({
    sourceId: z.string(),
    studyInstanceUid: z.string(),
    /** instances previewed (a sample: at most a few per study) and how many the study has */
    instancesInStudy: z.number().int(),
    instances: z.array(
      z.object({
        sopInstanceUid: z.string(),
        elements: z.array(z.object({ path: z.string(), tag: z.string(), name: z.string(), vr: z.string(), before: z.string().nullable(), after: z.string().nullable(), changed: z.boolean() })),
      }),
    ),
  })
  .meta({ id: "TransformPreview" });
export type TransformPreview = z.infer<typeof TransformPreview>;

const LicenceLimits = z.object({ routers: z.number().nullable(), tenants: z.number().nullable(), migratedTb: z.number().nullable() }).meta({ description: "null: no limit" });
/** The licence as the engine holds it (engine/licence): self-hosted engines need one, hosted ones report not_required. */
export const LicenceStatus = z
  .object({
    mode: z.enum(["hosted", "self-hosted"]),
    status: z.enum(["not_required", "valid", "expired", "invalid"]),
    /** what holds, or why the licence is refused, in a sentence */
    message: z.string(),
    /** set while a valid licence is within 30 days of expiry */
    warning: z.string().nullable(),
    licence: z
      .object({
        licensee: z.string(),
        deploymentId: z.string(),
        mode: z.enum(["hosted", "self-hosted"]),
        features: z.array(z.enum(["relay", "migration"])),
        limits: LicenceLimits,
        issuedAt: z.string(),
        expiresAt: z.string().nullable(),
        maintenanceEndsAt: z.string(),
      })
      .nullable(),
    usage: z.object({ routers: z.number(), tenants: z.number(), migratedTb: z.number() }),
    /** whole days left, the expiry day included; ≤ 0 once expired; null when perpetual or no licence */
    daysToExpiry: z.number().int().nullable(),
    checkedAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .meta({ id: "LicenceStatus" });
export type LicenceStatus = z.infer<typeof LicenceStatus>;
