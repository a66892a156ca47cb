// Faults on the way, against real Orthanc archives: an instance corrupted in flight (a test hook flips a byte), a
// file whose header comes back cut short, a study whose character set is not a DICOM one. Each is quarantined with its category and
// evidence while the rest migrate; a repair with a tag patch migrates one, a skip excludes the other, and the
// reconciliation balances. Pause holds and resume finishes.
import { execFileSync } from "node:child_process";
import { open } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";
import { flipPixelByte } from "../test-faults";
import { approveVersion } from "../../../test/migrations";

const TOKEN = "migration-faults-".padEnd(48, "f");

describe("migration faults, review decisions and control", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  const studies = makeStudies(8, ["2024-06-01", "2024-06-02"]);
  const sop = (file: string) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0008,0018", file]).toString())![1]!;
  const studyUid = (file: string) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0020,000d", file]).toString())![1]!;
  const corruptOnce = new Set([sop(studies[1]!.file)]);
  const damageHeaderOnce = new Set([studyUid(studies[4]!.file)]);
  let slowDown = 0;

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const newMigration = async (name: string, extra: Record<string, unknown> = {}) => {
    const r = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({
        name,
        sources: [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: source.port }],
        target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" },
        concurrency: 1,
        ...extra,
      }),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const id = r.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (x) => x.body.status === "ready", 60_000);
    return id;
  };
  const settled = (id: string) => until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => ["completed", "paused"].includes(r.body.status) && r.body.counts.inFlight === 0, 120_000, 300);

  beforeAll(async () => {
    // One study names a character set that does not exist.
    execFileSync("dcmodify", ["-nb", "-m", "(0008,0005)=ISO_IR 999", studies[2]!.file]);
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, {
      token: TOKEN,
      hooks: {
        migration: {
          afterExtract: async (files) => {
            // An archive that returns a file whose meta group is cut short: the header cannot be read.
            for (const f of files) {
              const uid = /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0020,000d", f]).toString())?.[1];
              if (!uid || !damageHeaderOnce.delete(uid)) continue;
              const fh = await open(f, "r+");
              await fh.truncate(150);
              await fh.close();
            }
          },
          beforeSend: async (file, sopInstanceUid) => {
            if (slowDown) await new Promise((r) => setTimeout(r, slowDown));
            if (!corruptOnce.delete(sopInstanceUid)) return;
            await flipPixelByte(file); // flip one byte of the pixel data, after the extract hash
          },
        },
      },
    });
    [source, target] = await Promise.all([startOrthanc({ aeTitle: "LEGACY" }), startOrthanc({ aeTitle: "NEWARCH", overwrite: true })]);
    for (const s of studies) await source.upload(s.file);
  }, 120_000);
  afterAll(async () => {
    await source?.stop();
    await target?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("quarantines each fault with its category and evidence, migrates the rest, and repair or skip settle them", async () => {
    const id = await newMigration("with faults");
    await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    const done = await settled(id);
    expect(done.body.counts).toMatchObject({ discovered: 8, migrated: 5, quarantined: 3 });
    const q = (await api(`/v1/tenants/north/migrations/${id}/quarantine`)).body.studies as { studyInstanceUid: string; category: string; evidence: Record<string, string> }[];
    const mismatch = q.find((s) => s.category === "hash_mismatch")!;
    const charset = q.find((s) => s.category === "character_set")!;
    expect(mismatch.studyInstanceUid).toBe(studyUid(studies[1]!.file));
    expect(mismatch.evidence.expectedSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(mismatch.evidence.targetSha256).not.toBe(mismatch.evidence.expectedSha256);
    expect(charset.studyInstanceUid).toBe(studyUid(studies[2]!.file));
    expect(charset.evidence).toMatchObject({ element: "(0008,0005) SpecificCharacterSet", value: "ISO_IR 999" });
    const malformed = q.find((s) => s.category === "malformed_header")!;
    expect(malformed.studyInstanceUid).toBe(studyUid(studies[4]!.file));
    expect(malformed.evidence.message).toMatch(/not a Part 10 file|meta group/);

    // The reconciliation names every difference.
    const rec = (await api(`/v1/tenants/north/migrations/${id}/progress`)).body.reconciliation;
    expect(rec).toMatchObject({ discovered: 8, migrated: 5, quarantined: { hash_mismatch: 1, character_set: 1, malformed_header: 1 } });
    expect(rec.outstanding).toEqual(expect.arrayContaining(["1 quarantined: hash mismatch", "1 quarantined: character set", "1 quarantined: malformed header"]));

    const signer = { userId: "u-1", name: "Rita Reviewer", meaning: "reviewed and approved" };
    const bad = await api(`/v1/tenants/north/migrations/${id}/decisions`, { method: "POST", body: JSON.stringify({ sourceId: "legacy", studyInstanceUid: mismatch.studyInstanceUid, decision: "repair", reason: "resend", signer }) });
    expect(bad.status).toBe(400); // a repair needs a patch
    const repaired = await api(`/v1/tenants/north/migrations/${id}/decisions`, {
      method: "POST",
      body: JSON.stringify({ sourceId: "legacy", studyInstanceUid: mismatch.studyInstanceUid, decision: "repair", reason: "corrupted in transit; resend with a note", patch: [{ tag: "00081030", value: "Repaired after review" }], signer }),
    });
    expect(repaired.status, JSON.stringify(repaired.body)).toBe(200);
    const skipped = await api(`/v1/tenants/north/migrations/${id}/decisions`, {
      method: "POST",
      body: JSON.stringify({ sourceId: "legacy", studyInstanceUid: charset.studyInstanceUid, decision: "skip", reason: "test study with a broken character set; not clinical", signer }),
    });
    expect(skipped.body.decision).toMatchObject({ decision: "skip", signer });
    const escalated = await api(`/v1/tenants/north/migrations/${id}/decisions`, {
      method: "POST",
      body: JSON.stringify({ sourceId: "legacy", studyInstanceUid: malformed.studyInstanceUid, decision: "escalate", reason: "the archive vendor must look at this file", signer }),
    });
    expect(escalated.body).toMatchObject({ category: "malformed_header", decision: { decision: "escalate" } });

    await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    const after = await settled(id);
    expect(after.body.status).toBe("completed");
    // Reconciliation: everything found is migrated, skipped (with its reason) or quarantined; nothing pending. The
    // malformed one stays quarantined (escalated) until its archive sends a readable file.
    expect(after.body.counts).toMatchObject({ discovered: 8, migrated: 6, skipped: 1, quarantined: 1, pending: 0, inFlight: 0 });
    const oid = ((await fetch(`${target.http}/tools/lookup`, { method: "POST", body: sop(studies[1]!.file) }).then((r) => r.json())) as { ID: string }[])[0]!.ID;
    const tags = (await fetch(`${target.http}/instances/${oid}/simplified-tags`).then((r) => r.json())) as { StudyDescription?: string };
    expect(tags.StudyDescription).toBe("Repaired after review");
    const types = (await api("/v1/events?after=0&limit=1000")).body.events.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(["migration.study_quarantined", "migration.study_repaired", "migration.study_skipped", "migration.study_escalated", "migration.completed"]));
  }, 180_000);

  it("applies the plan's tag rules per modality before hashing, and the target holds the transformed datasets", async () => {
    // A fresh target: the first one holds the untransformed copies already.
    const fresh = await startOrthanc({ aeTitle: "CLEANARCH" });
    const id = await newMigration("with tag rules", {
      target: { kind: "dicom", aeTitle: fresh.aeTitle, host: "127.0.0.1", port: fresh.port },
      transforms: [
        { op: "set", tag: "00080080", value: "New Hospital" },
        { op: "remove", tag: "00081030" },
        { op: "map", tag: "00100020", values: { PAT0: "NEW-0", PAT3: "NEW-3" } },
        { op: "set", tag: "00081090", value: "CT only", modalities: ["CT"] },
        { op: "remove-private" },
      ],
    });
    await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    const done = await settled(id);
    expect(done.body.counts).toMatchObject({ discovered: 8, migrated: 7, quarantined: 1 }); // the character-set study again
    for (const [i, s] of studies.entries()) {
      if (i === 2) continue;
      const [hit] = (await fetch(`${fresh.http}/tools/lookup`, { method: "POST", body: sop(s.file) }).then((r) => r.json())) as { ID: string }[];
      const tags = (await fetch(`${fresh.http}/instances/${hit!.ID}/tags?short`).then((r) => r.json())) as Record<string, unknown>;
      expect(tags["0008,0080"], `study ${i}`).toBe("New Hospital");
      expect(tags["0008,1030"]).toBeUndefined();
      expect(tags["0010,0020"]).toBe(i === 0 || i === 3 ? `NEW-${i}` : `PAT${i}`);
      if (s.modality === "CT") expect(tags["0008,1090"]).toBe("CT only");
      else expect(tags["0008,1090"]).not.toBe("CT only"); // the rule is for CT only
      expect(Object.keys(tags).filter((k) => parseInt(k.slice(0, 4), 16) % 2 === 1)).toEqual([]);
    }
    await fresh.stop();
  }, 180_000);

  it("pause holds, resume finishes", async () => {
    slowDown = 400;
    const id = await newMigration("paused midway");
    await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.counts.migrated >= 1, 60_000, 100);
    expect((await api(`/v1/tenants/north/migrations/${id}/pause`, { method: "POST" })).status).toBe(200);
    const paused = await settled(id);
    expect(paused.body.status).toBe("paused");
    const held = paused.body.counts.migrated + paused.body.counts.quarantined;
    expect(held).toBeLessThan(8);
    await new Promise((r) => setTimeout(r, 1500));
    const still = (await api(`/v1/tenants/north/migrations/${id}`)).body.counts;
    expect(still.migrated + still.quarantined).toBe(held); // nothing new started while paused
    slowDown = 0;
    expect((await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" })).status).toBe(202);
    const done = await settled(id);
    expect(done.body.status).toBe("completed");
    expect(done.body.counts.pending).toBe(0);
  }, 180_000);
});
