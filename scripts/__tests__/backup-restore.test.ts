// migration:backup and migration:restore as an operator runs them, against real PostgreSQL and a real Orthanc:
// engine A migrates a folder (one study quarantined and escalated), discovers two more studies (one caught in
// flight), and is backed up; the backup is restored into a fresh database for engine B, which finishes the
// migration without sending the target anything already verified. Edited, foreign-signed and repeated restores
// are refused and leave the database as it was.
import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../test/databases";
import { startTestEngine } from "../../test/engine";
import { approveVersion } from "../../test/migrations";
import { startOrthanc } from "../../test/orthanc";
import { makeCtStudy, makeStudies } from "../../test/studies";
import { until } from "../../test/until";
import { contentSha256, type BackupDocument } from "../lib/migration-backup-format";
import { adjustForRestore } from "../migration-restore";

const TOKEN = "backup-restore-token-".padEnd(48, "b");
const TSX = path.resolve(import.meta.dirname, "../../node_modules/.bin/tsx");
const script = (name: string) => path.resolve(import.meta.dirname, `../${name}.ts`);
const sopOf = (file: string) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["-Un", "+P", "0008,0018", file]).toString())![1]!;

function run(name: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(TSX, [script(name), ...args], { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    ),
  );
}

type Engine = Awaited<ReturnType<typeof startTestEngine>>;

describe("migration:backup and migration:restore", () => {
  let dbsA: Awaited<ReturnType<typeof createTestDatabases>>;
  let dbsB: Awaited<ReturnType<typeof createTestDatabases>>;
  let engineA: Engine;
  let engineB: Engine;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  let sqlB: postgres.Sql;
  let id: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), "backup-restore-"));
  const importRoot = path.join(dir, "imports");
  const scans = path.join(importRoot, "north", "scans");
  const backupFile = path.join(dir, "backup.json");
  const keyFile = path.join(dir, "operator.pem");
  let publicKey: string;
  const first = [...makeStudies(2, ["2024-03-01", "2024-03-02"]).map((s) => s.file), ...makeCtStudy(path.join(dir, "ct"), 3, { date: "2024-03-03" })];
  const broken = makeStudies(1, ["2024-03-04"])[0]!.file;
  const later = makeStudies(2, ["2024-03-05", "2024-03-06"]).map((s) => s.file);
  let reportA: { studies: { record: { studyInstanceUid: string }; recordHash: string }[] };

  const api = async (engine: Engine, p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const migration = (engine: Engine) => api(engine, `/v1/tenants/north/migrations/${id}`);
  const restoredEvents = async () => (await sqlB`select payload from engine_events where type = 'migration.restored'`).map((r) => r.payload as Record<string, unknown>);
  const migrationsInB = async () => Number((await sqlB`select count(*) as n from migrations`)[0]!.n);
  const put = (files: string[], prefix: string) => files.forEach((f, i) => copyFileSync(f, path.join(scans, `${prefix}${i}.dcm`)));

  beforeAll(async () => {
    mkdirSync(scans, { recursive: true });
    // A study that names a character set that does not exist: quarantined, with its extracted files as evidence.
    execFileSync("dcmodify", ["-nb", "-i", "(0008,0005)=ISO_IR 999", broken]);
    put([...first, broken], "a");
    [dbsA, dbsB, target] = await Promise.all([createTestDatabases(), createTestDatabases(), startOrthanc({ aeTitle: "NEWARCH", overwrite: true })]);
    // The target overwrites a resent instance, so a resend shows in its change log as a new instance.
    engineA = await startTestEngine(dbsA.engineUrl, { token: TOKEN, env: { ENGINE_IMPORT_ROOT: importRoot } });
    const created = await api(engineA, "/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: "Backed up",
        sources: [{ kind: "filesystem", id: "disk", path: "scans" }],
        target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" },
      }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    id = created.body.id;
    await approveVersion({ url: engineA.url, token: TOKEN }, "north", id);
    await api(engineA, `/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    await until(() => migration(engineA), (r) => r.body.status === "ready", 60_000);
    await api(engineA, `/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    const done = await until(() => migration(engineA), (r) => r.body.status === "completed", 120_000, 300);
    expect(done.body.counts).toMatchObject({ migrated: 3, quarantined: 1 });
    const [q] = (await api(engineA, `/v1/tenants/north/migrations/${id}/quarantine`)).body.studies as { studyInstanceUid: string }[];
    const decided = await api(engineA, `/v1/tenants/north/migrations/${id}/decisions`, {
      method: "POST",
      body: JSON.stringify({ sourceId: "disk", studyInstanceUid: q!.studyInstanceUid, decision: "escalate", reason: "the modality vendor must fix its character set", signer: { userId: "u-1", name: "Rita Reviewer", meaning: "reviewed" } }),
    });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);
    reportA = (await api(engineA, `/v1/tenants/north/migrations/${id}/report`)).body;
    // Two studies arrive later; one is caught in flight by engine A's worker when the backup is taken.
    put(later, "b");
    await api(engineA, `/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    await until(() => migration(engineA), (r) => r.body.status === "ready", 60_000);
    const sqlA = postgres(dbsA.engineUrl, { max: 1, onnotice: () => {} });
    await sqlA`update migration_studies set status = 'in_flight', worker = 'engine-a/dead', lease_until = now() + interval '1 hour'
      where migration_id = ${id} and study_instance_uid = (select study_instance_uid from migration_studies where migration_id = ${id} and status = 'pending' limit 1)`;
    await sqlA.end();
    engineB = await startTestEngine(dbsB.engineUrl, { token: TOKEN, env: { ENGINE_IMPORT_ROOT: importRoot } });
    sqlB = postgres(dbsB.engineUrl, { max: 1, onnotice: () => {} });
  }, 240_000);

  afterAll(async () => {
    await sqlB?.end();
    await engineA?.close();
    await engineB?.close();
    await target?.stop();
    await dbsA?.drop();
    await dbsB?.drop();
  });

  it("backs up the whole migration into one signed file, and refuses an id that is not one", async () => {
    const r = await run("migration-backup", ["--migration", id, "--database", dbsA.engineUrl, "--key", keyFile, "--out", backupFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/generated an Ed25519 key/);
    publicKey = /public key \(Ed25519, base64\): (\S+)/.exec(r.stderr)![1]!;
    expect(r.stderr).toContain(`BACKED UP: migration ${id} (tenant north, ready): 1 plan versions, 6 studies, 5 verified instances`);
    const doc = JSON.parse(readFileSync(backupFile, "utf8"));
    expect(doc).toMatchObject({ format: "imgops-migration-backup/1", publicKey, content: { migrationId: id, tenantSlug: "north" } });
    expect(doc.sha256).toBe(contentSha256(doc.content));
    const studies = doc.content.tables.migration_studies as { status: string; decision: unknown }[];
    expect(studies.map((s) => s.status).sort()).toEqual(["in_flight", "migrated", "migrated", "migrated", "pending", "quarantined"]);
    expect(studies.find((s) => s.status === "quarantined")!.decision).toMatchObject({ decision: "escalate" });
    expect(doc.content.tables.quarantine_evidence.length).toBeGreaterThan(0);
    expect(doc.content.tables.migration_plan_versions[0].approval).toMatchObject({ name: "Test Approver" });
    expect(doc.content.tables.migration_instances[0].verified_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/);

    const bad = await run("migration-backup", ["--migration", "not-a-uuid", "--database", dbsA.engineUrl, "--key", keyFile]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--migration "not-a-uuid" is not a migration id`);
    const missing = await run("migration-backup", ["--migration", "00000000-0000-4000-8000-000000000000", "--database", dbsA.engineUrl, "--key", keyFile]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("this engine database has no migration 00000000-0000-4000-8000-000000000000");
  }, 60_000);

  it("refuses an edited backup and one signed by another key, and leaves the database untouched", async () => {
    const doc = JSON.parse(readFileSync(backupFile, "utf8"));
    // One study's status changed: the content no longer matches its sha256.
    const edited = structuredClone(doc);
    edited.content.tables.migration_studies.find((s: { status: string }) => s.status === "pending").status = "migrated";
    writeFileSync(path.join(dir, "edited.json"), JSON.stringify(edited, null, 2));
    const a = await run("migration-restore", ["--backup", path.join(dir, "edited.json"), "--trusted-key", publicKey, "--database", dbsB.engineUrl]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("REFUSED:");
    expect(a.stderr).toContain("was changed after it was signed: its content does not match its sha256");
    // The same edit with the sha256 recomputed: the signature no longer verifies.
    writeFileSync(path.join(dir, "rehashed.json"), JSON.stringify({ ...edited, sha256: contentSha256(edited.content) }));
    const b = await run("migration-restore", ["--backup", path.join(dir, "rehashed.json"), "--trusted-key", publicKey, "--database", dbsB.engineUrl]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`the signature does not verify with key ${publicKey}`);
    // Re-signed by someone else's key: a valid signature, by a key nobody trusts.
    const other = await run("migration-backup", ["--migration", id, "--database", dbsA.engineUrl, "--key", path.join(dir, "other.pem"), "--out", path.join(dir, "other.json")]);
    expect(other.code, other.stderr).toBe(0);
    const otherKey = JSON.parse(readFileSync(path.join(dir, "other.json"), "utf8")).publicKey;
    const c = await run("migration-restore", ["--backup", path.join(dir, "other.json"), "--trusted-key", publicKey, "--database", dbsB.engineUrl]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain(`is signed by key ${otherKey}, which is not a trusted key`);
    const d = await run("migration-restore", ["--backup", backupFile, "--database", dbsB.engineUrl], { MIGRATION_BACKUP_TRUSTED_KEYS: "" });
    expect(d.code).toBe(2);
    expect(d.stderr).toContain("no trusted key");
    writeFileSync(path.join(dir, "junk.json"), JSON.stringify({ format: "imgops-migration-report/1", studies: [] }));
    const e = await run("migration-restore", ["--backup", path.join(dir, "junk.json"), "--trusted-key", publicKey, "--database", dbsB.engineUrl]);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain("is not a valid imgops-migration-backup/1 file");
    expect(await migrationsInB()).toBe(0);
    expect(await restoredEvents()).toEqual([]);
  }, 90_000);

  it("restores into a fresh database, and engine B finishes without resending anything verified", async () => {
    const before = (await fetch(`${target.http}/changes?last`).then((r) => r.json())) as { Last: number };
    const countBefore = ((await fetch(`${target.http}/statistics`).then((r) => r.json())) as { CountInstances: number }).CountInstances;
    expect(countBefore).toBe(5);

    const r = await run("migration-restore", ["--backup", backupFile, "--trusted-key", publicKey], { ENGINE_DATABASE_URL: dbsB.engineUrl });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`RESTORED: migration ${id} (tenant north, ready): 3 migrated, 1 quarantined, 2 pending (1 in flight put back to pending), 5 verified instances`);
    const [event] = await restoredEvents();
    expect(event).toMatchObject({ migrationId: id, backupSha256: JSON.parse(readFileSync(backupFile, "utf8")).sha256, signedBy: publicKey, requeued: 1, studies: { migrated: 3, quarantined: 1, pending: 2 } });
    const restored = await migration(engineB);
    expect(restored.body).toMatchObject({ status: "ready", versionInForce: 1, counts: { migrated: 3, quarantined: 1, pending: 2, inFlight: 0 } });
    // The roll-up history is the backup's, row for row (not what the triggers rebuilt from the study rows).
    const backup = JSON.parse(readFileSync(backupFile, "utf8")).content.tables;
    await sqlB`set time zone 'UTC'`;
    for (const t of ["migration_hourly", "migration_daily", "migration_quarantine_hourly"]) {
      const rows = await sqlB`select to_jsonb(t) as row from ${sqlB(t)} t where migration_id = ${id}`;
      expect(new Set(rows.map((x) => JSON.stringify(x.row))), t).toEqual(new Set(backup[t].map((x: unknown) => JSON.stringify(x))));
    }
    const [q] = (await api(engineB, `/v1/tenants/north/migrations/${id}/quarantine`)).body.studies as { category: string; decision: { decision: string } }[];
    expect(q).toMatchObject({ category: "character_set", decision: { decision: "escalate" } });

    await api(engineB, `/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    const done = await until(() => migration(engineB), (m) => m.body.status === "completed", 120_000, 300);
    expect(done.body.counts).toMatchObject({ migrated: 5, quarantined: 1, pending: 0, inFlight: 0 });
    // The target's change log since the restore: the two later studies' instances, nothing of the first three.
    const changes = (await fetch(`${target.http}/changes?since=${before.Last}&limit=1000`).then((r) => r.json())) as { Changes: { ChangeType: string; ID: string }[] };
    const sent = new Set<string>();
    for (const ch of changes.Changes.filter((c) => c.ChangeType === "NewInstance")) {
      sent.add(((await fetch(`${target.http}/instances/${ch.ID}/simplified-tags`).then((r) => r.json())) as { SOPInstanceUID: string }).SOPInstanceUID);
    }
    expect(sent).toEqual(new Set(later.map(sopOf)));
    expect(((await fetch(`${target.http}/statistics`).then((r) => r.json())) as { CountInstances: number }).CountInstances).toBe(7);
    // The first three studies' records are the ones engine A verified, hash for hash.
    const reportB = (await api(engineB, `/v1/tenants/north/migrations/${id}/report`)).body as typeof reportA;
    const hashesB = new Map(reportB.studies.map((s) => [s.record.studyInstanceUid, s.recordHash]));
    for (const s of reportA.studies) expect(hashesB.get(s.record.studyInstanceUid)).toBe(s.recordHash);
    expect(reportB.studies).toHaveLength(5);
  }, 180_000);

  it("restores a running migration paused and one caught mid-discovery failed, so nothing runs by itself", () => {
    const doc = JSON.parse(readFileSync(backupFile, "utf8")) as BackupDocument;
    const as = (status: string) => adjustForRestore({ ...doc, content: { ...doc.content, tables: { ...doc.content.tables, migrations: [{ ...doc.content.tables.migrations[0], status }] } } }, new Date());
    expect(as("running").migration.status).toBe("paused");
    expect(as("discovering").migration).toMatchObject({ status: "failed", last_error: expect.stringContaining("discover again") });
    expect(as("completed").migration.status).toBe("completed");
    expect(as("ready").studies.filter((s) => s.status === "in_flight")).toEqual([]);
  });

  it("refuses to restore the same migration twice", async () => {
    const again = await run("migration-restore", ["--backup", backupFile, "--trusted-key", publicKey, "--database", dbsB.engineUrl]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`REFUSED: this engine database already holds migration ${id} (tenant north, completed): restore into a fresh engine database`);
    expect(await restoredEvents()).toHaveLength(1);
  }, 60_000);
});
