// The migration backup file (imgops-migration-backup/1), shared by migration:backup and migration:restore: which
// engine tables hold a migration's state, the document's shape (zod), its SHA-256 and its Ed25519 signature, and
// the keys. Both are over the canonical JSON of { format, content }, so any edited byte is caught by one or the
// other; the key that signed must be one the restoring operator trusts, or a re-signed backup would pass.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { canonicalJson } from "../../engine/migration/study-record";

export const BACKUP_FORMAT = "imgops-migration-backup/1";

/** A refusal the CLI prints as it is (exit status 2), never a stack trace. */
export class Refused extends Error {}

/**
 * Every table with rows of one migration, in the order a restore inserts them (foreign keys point up the list),
 * each ordered by its key so two backups of the same state are the same bytes. migration_totals is left out: the
 * triggers on migration_studies rebuild it from the restored rows. The hourly/daily roll-ups are kept because they
 * hold history the rows no longer show (quarantine exits, a repaired study's first quarantine).
 */
export const BACKUP_TABLES = [
  { name: "migrations", key: "id", order: "id" },
  { name: "migration_plan_versions", key: "migration_id", order: "version" },
  { name: "migration_studies", key: "migration_id", order: "source_id, study_instance_uid" },
  // Checkpoints before the study history that names them; their high-water marks are the migration's own
  // completion numbers (migrations.completion_seq), so they hold in the restoring database too.
  { name: "migration_checkpoints", key: "migration_id", order: "seq", since: "0021_migration_checkpoints" },
  { name: "migration_study_history", key: "migration_id", order: "superseded_at, source_id, study_instance_uid, id", since: "0021_migration_checkpoints" },
  { name: "migration_instances", key: "migration_id", order: "sop_instance_uid" },
  { name: "migration_source_files", key: "migration_id", order: "source_id, path" },
  // Evidence by blob id, size and SHA-256 only: the bytes stay in the engine's blob store, encrypted with the tenant's key.
  { name: "quarantine_evidence", key: "migration_id", order: "source_id, study_instance_uid, side, position, id" },
  { name: "migration_hourly", key: "migration_id", order: "bucket, source_id, modality" },
  { name: "migration_daily", key: "migration_id", order: "day, source_id" },
  { name: "migration_quarantine_hourly", key: "migration_id", order: "bucket, category" },
] as const;

export type BackupTable = (typeof BACKUP_TABLES)[number]["name"];

const Row = z.record(z.string(), z.unknown());

export const BackupContent = z.object({
  migrationId: z.uuid(),
  tenantSlug: z.string().min(1),
  takenAt: z.iso.datetime({ offset: true }),
  /** the last engine schema migration of the database it was taken from (engine/store/migrations) */
  engineSchema: z.string(),
  // A table added to the list later (`since`) is absent from older backups: those restore with none of its rows.
  tables: z.strictObject(
    Object.fromEntries(BACKUP_TABLES.map((t) => [t.name, "since" in t ? z.array(Row).default([]) : z.array(Row)])) as unknown as Record<BackupTable, z.ZodArray<typeof Row>>,
  ),
  /** the migration's outbox events, for the record: a restore does not replay them (the audit chain has them) */
  events: z.array(Row),
});
export type BackupContent = z.infer<typeof BackupContent>;

/** The envelope; its content is checked against the hash and signature as it is in the file, then parsed. */
const Envelope = z.object({
  format: z.literal(BACKUP_FORMAT),
  content: z.unknown(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  publicKey: z.string().min(1),
  signature: z.string().min(1),
});
export type BackupDocument = Omit<z.infer<typeof Envelope>, "content"> & { content: BackupContent };

const signedBytes = (content: unknown) => Buffer.from(canonicalJson({ format: BACKUP_FORMAT, content }), "utf8");
export const contentSha256 = (content: unknown) => createHash("sha256").update(signedBytes(content)).digest("hex");

export const rawPublic = (k: KeyObject) => (k.export({ format: "der", type: "spki" }) as Buffer).subarray(-32).toString("base64");
const publicFromRaw = (b64: string) => createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(b64, "base64")]), format: "der", type: "spki" });

/** A trusted key as the operator gives it (base64 raw Ed25519, or a PEM public key), as base64 raw. */
export function trustedKeyOf(text: string): string {
  try {
    const key = text.includes("BEGIN") ? createPublicKey(text) : publicFromRaw(text.trim());
    if (key.asymmetricKeyType !== "ed25519") throw new Error();
    return rawPublic(key);
  } catch {
    throw new Refused(`--trusted-key is not an Ed25519 public key (base64, as migration:backup printed it, or a PEM file)`);
  }
}

/**
 * The signing key, as migration:reverify takes its own: a PEM file (generated there, 0600, when absent), or the
 * MIGRATION_BACKUP_KEY environment variable holding the PEM itself or a path to it.
 */
export function loadSigningKey(file: string | undefined, env = process.env.MIGRATION_BACKUP_KEY): { privateKey: KeyObject; publicKey: string; created: string | null } {
  const pem = file ? null : env?.includes("BEGIN") ? env : null;
  const where = file ?? (pem ? null : env);
  if (!pem && !where) throw new Refused("no signing key: pass --key <ed25519.pem> (created there if absent) or set MIGRATION_BACKUP_KEY");
  if (!pem && !existsSync(where!)) {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    writeFileSync(where!, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
    return { privateKey, publicKey: rawPublic(publicKey), created: where! };
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem ?? readFileSync(where!, "utf8"));
  } catch {
    throw new Refused(`${where ?? "MIGRATION_BACKUP_KEY"} is not a PEM private key`);
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Refused(`${where ?? "MIGRATION_BACKUP_KEY"} is not an Ed25519 private key`);
  return { privateKey, publicKey: rawPublic(createPublicKey(privateKey)), created: null };
}

export function signBackup(content: BackupContent, privateKey: KeyObject, publicKey: string): BackupDocument {
  return { format: BACKUP_FORMAT, content, sha256: contentSha256(content), publicKey, signature: sign(null, signedBytes(content), privateKey).toString("base64") };
}

/**
 * The document as read from `file`, refused unless it parses, its SHA-256 holds, it names a trusted key and that
 * key's signature verifies. Each refusal says which of these failed.
 */
export function readBackup(file: string, trusted: string[]): BackupDocument {
  if (!existsSync(file)) throw new Refused(`no such backup file: ${file}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new Refused(`${file} is not JSON: make the backup with npm run migration:backup`);
  }
  const parsed = Envelope.safeParse(json);
  if (!parsed.success) throw new Refused(`${file} is not a valid ${BACKUP_FORMAT} file:\n${z.prettifyError(parsed.error)}`);
  const doc = parsed.data;
  if (contentSha256(doc.content) !== doc.sha256) throw new Refused(`${file} was changed after it was signed: its content does not match its sha256`);
  if (!trusted.includes(doc.publicKey)) throw new Refused(`${file} is signed by key ${doc.publicKey}, which is not a trusted key (--trusted-key)`);
  let ok = false;
  try {
    ok = verify(null, signedBytes(doc.content), publicFromRaw(doc.publicKey), Buffer.from(doc.signature, "base64"));
  } catch {
    ok = false;
  }
  if (!ok) throw new Refused(`${file}: the signature does not verify with key ${doc.publicKey}: the file was changed or signed by another key`);
  const content = BackupContent.safeParse(doc.content);
  if (!content.success) throw new Refused(`${file} is signed, but its content is not a ${BACKUP_FORMAT} backup:\n${z.prettifyError(content.error)}`);
  return { ...doc, content: content.data };
}
