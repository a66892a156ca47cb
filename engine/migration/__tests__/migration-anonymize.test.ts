// The anonymization profile end to end against real Orthanc archives: identifiers become keyed-hash pseudonyms
// (the same patient the same pseudonym in every study), UIDs are replaced consistently (references inside
// sequences follow the instance they point at), identifying and private elements are gone, and the migration
// records both UIDs and the three hashes: at extract, expected after the transformation, and at the target.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";
import { approveVersion } from "../../../test/migrations";

const TOKEN = "migration-anonymize-".padEnd(48, "a");
const dump = (file: string, tag: string) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["-Un", "+P", tag, file]).toString())?.[1] ?? "";

describe("anonymization profile", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  const studies = makeStudies(4, ["2024-03-01", "2024-03-02"]);

  const api = async (base: string, p: string, init: RequestInit = {}) => {
    const res = await fetch(base + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const plan = () => ({
    name: "anonymized copy",
    sources: [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: source.port, retrieve: "c-get" }],
    target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
    filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" },
    transforms: [{ op: "anonymize", profile: "basic" }],
  });

  beforeAll(async () => {
    for (const [i, s] of studies.entries()) {
      // Studies 0 and 2 are one patient; every instance references itself from a sequence, names an institution
      // and carries a private block.
      const patient = i % 2 === 0 ? "SAME-PATIENT" : `PATIENT-${i}`;
      execFileSync("dcmodify", ["-nb", "-m", `(0010,0020)=${patient}`, "-i", "(0010,0010)=Doe^Jane", "-i", "(0008,0050)=ACC" + i, "-i", "(0008,0080)=Northside General",
        "-i", `(0008,1140)[0].(0008,1150)=${dump(s.file, "0008,0016")}`, "-i", `(0008,1140)[0].(0008,1155)=${dump(s.file, "0008,0018")}`,
        "-i", "(0009,0010)=GEMS_IDEN_01", "-i", "(0009,1001)=scanner secret", s.file]);
    }
    [dbs, source, target] = await Promise.all([createTestDatabases(), startOrthanc({ aeTitle: "ANON_SRC" }), startOrthanc({ aeTitle: "ANON_DST" })]);
    for (const s of studies) await source.upload(s.file);
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_PSEUDONYM_KEY: randomBytes(32).toString("base64") } });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    await Promise.all([source?.stop(), target?.stop()]);
    await dbs?.drop();
  });

  it("an engine without a pseudonym key refuses the plan with a field error", async () => {
    const keyless = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    try {
      const r = await api(keyless.url, "/v1/tenants/north/migrations", { method: "POST", body: JSON.stringify(plan()) });
      expect(r.status).toBe(422);
      expect(r.body.fields["transforms.0"][0]).toMatch(/ENGINE_PSEUDONYM_KEY/);
    } finally {
      await keyless.close();
    }
  });

  it("migrates pseudonymized studies and records source and target UIDs with their hashes", async () => {
    const created = await api(engine.url, "/v1/tenants/north/migrations", { method: "POST", body: JSON.stringify(plan()) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(engine.url, `/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    await until(() => api(engine.url, `/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "ready", 60_000);
    await api(engine.url, `/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    const done = await until(() => api(engine.url, `/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 120_000, 300);
    expect(done.body.counts).toMatchObject({ discovered: 4, migrated: 4, quarantined: 0 });

    const sourceSops = new Set(studies.map((s) => dump(s.file, "0008,0018")));
    const sourceStudies = new Set(studies.map((s) => dump(s.file, "0020,000d")));
    const patientIds: string[] = [];
    for (const oid of (await fetch(`${target.http}/instances`).then((r) => r.json())) as string[]) {
      const tags = (await fetch(`${target.http}/instances/${oid}/tags?simplify`).then((r) => r.json())) as Record<string, unknown> & {
        SOPInstanceUID: string; StudyInstanceUID: string; PatientID: string; PatientName: string; ReferencedImageSequence: { ReferencedSOPInstanceUID: string }[];
      };
      const full = (await fetch(`${target.http}/instances/${oid}/tags`).then((r) => r.json())) as Record<string, unknown>;
      expect(sourceSops.has(tags.SOPInstanceUID)).toBe(false);
      expect(sourceStudies.has(tags.StudyInstanceUID)).toBe(false);
      expect(tags.StudyInstanceUID).toMatch(/^2\.25\.\d+$/);
      expect(tags.ReferencedImageSequence[0]!.ReferencedSOPInstanceUID).toBe(tags.SOPInstanceUID);
      expect(tags.PatientName).toMatch(/^ANON\^[0-9A-F]{12}$/);
      expect(tags.PatientID).toMatch(/^P[0-9A-F]{15}$/);
      expect(tags.PatientIdentityRemoved).toBe("YES");
      expect(tags.InstitutionName).toBeUndefined();
      expect(Object.keys(full).filter((k) => parseInt(k.slice(0, 4), 16) % 2 === 1)).toEqual([]);
      patientIds.push(tags.PatientID);
    }
    expect(patientIds).toHaveLength(4);
    expect(new Set(patientIds).size).toBe(3); // studies 0 and 2 are one patient under one pseudonym

    const report = (await api(engine.url, `/v1/tenants/north/migrations/${id}/report`)).body.instances as Record<string, string>[];
    expect(report).toHaveLength(4);
    for (const r of report) {
      expect(sourceSops.has(r.sopInstanceUid!)).toBe(true);
      expect(r.targetSopInstanceUid).toMatch(/^2\.25\./);
      expect(r.targetStudyInstanceUid).toMatch(/^2\.25\./);
      expect(r.expectedSha256).toBe(r.targetSha256);
      expect(r.sourceSha256).not.toBe(r.expectedSha256);
    }
    const progress = (await api(engine.url, `/v1/tenants/north/migrations/${id}/progress`)).body;
    expect(progress.reconciliation).toMatchObject({ discovered: 4, migrated: 4, remaining: 0 });
  }, 180_000);
});
