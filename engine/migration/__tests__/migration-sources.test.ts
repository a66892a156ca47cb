// Every kind of source and target against real peers: a folder tree and a DICOMDIR (made by DCMTK's dcmmkdir),
// a DICOM archive by C-MOVE (Orthanc moving to the engine's own storage SCP), and a STOW-RS target verified by
// WADO-RS (Orthanc with Debian's DICOMweb plugin). Filesystem sources stay inside the tenant's import folder.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../scripts/lib/ports";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { makeStudies, MODALITIES } from "../../../test/studies";
import { datasetBytes } from "../../../test/dcmtk";
import { until } from "../../../test/until";
import { approveVersion } from "../../../test/migrations";

const TOKEN = "migration-sources-".padEnd(48, "s");
const MOVE_AE = "IMGOPS_MOVE";
const sopOf = (file: string) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["-Un", "+P", "0008,0018", file]).toString())![1]!;

describe("migration sources and targets", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let archive: Awaited<ReturnType<typeof startOrthanc>>;
  let dicomTarget: Awaited<ReturnType<typeof startOrthanc>>;
  let webTarget: Awaited<ReturnType<typeof startOrthanc>>;
  let moveTarget: Awaited<ReturnType<typeof startOrthanc>>;
  const importRoot = mkdtempSync(path.join(os.tmpdir(), "imports-"));
  const folderStudies = makeStudies(5, ["2024-05-01", "2024-05-02"]);
  const mediaStudies = makeStudies(3, ["2024-05-03"]);
  const archiveStudies = makeStudies(MODALITIES.length, ["2024-05-04"], MODALITIES);

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const migrate = async (sources: unknown[], target: unknown) => {
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({ name: "sources", sources, target, filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" } }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    const ready = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status !== "discovering", 60_000);
    expect(ready.body.status, ready.body.lastError).toBe("ready");
    await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    const done = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 120_000, 300);
    return { id, counts: done.body.counts };
  };
  const targetSops = async (t: typeof dicomTarget) => {
    const out = new Set<string>();
    for (const oid of (await fetch(`${t.http}/instances`).then((r) => r.json())) as string[]) {
      out.add(((await fetch(`${t.http}/instances/${oid}/simplified-tags`).then((r) => r.json())) as { SOPInstanceUID: string }).SOPInstanceUID);
    }
    return out;
  };

  beforeAll(async () => {
    // The tenant's import folder: a nested tree with one file that is not DICOM, and a DICOMDIR medium.
    const tree = path.join(importRoot, "north", "scans");
    folderStudies.forEach((s, i) => {
      mkdirSync(path.join(tree, `batch${i % 2}`), { recursive: true });
      copyFileSync(s.file, path.join(tree, `batch${i % 2}`, `${i}.dcm`));
    });
    writeFileSync(path.join(tree, "README.txt"), "not an image");
    // A file whose header gives no usable study: named as skipped, not sent under a UID no archive takes.
    const garbled = path.join(tree, "garbled.dcm");
    copyFileSync(makeStudies(1, ["2024-05-01"])[0]!.file, garbled);
    execFileSync("dcmodify", ["-nb", "-m", "(0020,000D)=not.a.uid", garbled], { stdio: "ignore" });
    const media = path.join(importRoot, "north", "cd1");
    mkdirSync(path.join(media, "DICOM"), { recursive: true });
    mediaStudies.forEach((s, i) => copyFileSync(s.file, path.join(media, "DICOM", `IM${i}`)));
    execFileSync("dcmmkdir", ["--recurse", "DICOM"], { cwd: media });
    mkdirSync(path.join(importRoot, "south"), { recursive: true });

    const movePort = await freePort();
    [dbs, archive, dicomTarget, webTarget, moveTarget] = await Promise.all([
      createTestDatabases(),
      startOrthanc({ aeTitle: "MOVE_SRC", moveDestinations: { [MOVE_AE]: movePort } }),
      startOrthanc({ aeTitle: "SRC_DST" }),
      startOrthanc({ aeTitle: "WEB_DST", dicomWeb: true }),
      startOrthanc({ aeTitle: "MOVE_DST", moveDestinations: { [MOVE_AE]: movePort } }),
    ]);
    for (const s of archiveStudies) await archive.upload(s.file);
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_IMPORT_ROOT: importRoot, ENGINE_MOVE_PORT: String(movePort), ENGINE_MOVE_AE_TITLE: MOVE_AE } });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    await Promise.all([archive?.stop(), dicomTarget?.stop(), webTarget?.stop(), moveTarget?.stop()]);
    await dbs?.drop();
  });

  it("a folder tree migrates every Part 10 file, names the file it skipped, and stays in the tenant's folder", async () => {
    const dicom = { kind: "dicom", aeTitle: dicomTarget.aeTitle, host: "127.0.0.1", port: dicomTarget.port };
    // Outside the tenant's folder (another tenant's, or the host's) is refused before anything runs.
    for (const p of ["../south", "/etc"]) {
      const r = await api("/v1/tenants/north/migrations", {
        method: "POST",
        body: JSON.stringify({ name: "escape", sources: [{ kind: "filesystem", id: "disk", path: p }], target: dicom, filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" } }),
      });
      expect(r.status).toBe(422);
      expect(r.body.fields["sources.0.path"][0]).toMatch(/outside this tenant's import folder/);
    }
    const { id, counts } = await migrate([{ kind: "filesystem", id: "disk", path: "scans" }], dicom);
    expect(counts).toMatchObject({ discovered: 5, migrated: 5, quarantined: 0 });
    expect(await targetSops(dicomTarget)).toEqual(new Set(folderStudies.map((s) => sopOf(s.file))));
    const events = (await api("/v1/events?after=0&limit=1000")).body.events as { type: string; payload: { migrationId: string; examples: { path: string; reason: string }[] } }[];
    const skipped = events.find((e) => e.type === "migration.files_skipped" && e.payload.migrationId === id);
    expect(skipped?.payload.examples).toEqual(expect.arrayContaining([
      { path: expect.stringMatching(/README\.txt$/), reason: "not a DICOM Part 10 file" },
      { path: expect.stringMatching(/garbled\.dcm$/), reason: expect.stringMatching(/"not\.a\.uid" is not a valid UID/) },
    ]));
    expect(skipped?.payload.examples).toHaveLength(2);
  }, 180_000);

  it("a DICOMDIR medium goes to a STOW-RS target, verified by WADO-RS", async () => {
    const { id, counts } = await migrate([{ kind: "filesystem", id: "cd", path: "cd1/DICOMDIR" }], { kind: "stow-rs", url: webTarget.dicomWebUrl });
    expect(counts).toMatchObject({ discovered: 3, migrated: 3, quarantined: 0 });
    expect(await targetSops(webTarget)).toEqual(new Set(mediaStudies.map((s) => sopOf(s.file))));
    const report = (await api(`/v1/tenants/north/migrations/${id}/report`)).body.instances as { sourceSha256: string; targetSha256: string }[];
    expect(report).toHaveLength(3);
    expect(report.every((r) => r.sourceSha256 === r.targetSha256)).toBe(true);
  }, 180_000);

  it("archive to archive by C-MOVE to the engine's own storage SCP, every encoding kept byte for byte", async () => {
    const { counts } = await migrate(
      [{ kind: "dicom", id: "pacs", aeTitle: archive.aeTitle, host: "127.0.0.1", port: archive.port, retrieve: "c-move" }],
      { kind: "dicom", aeTitle: moveTarget.aeTitle, host: "127.0.0.1", port: moveTarget.port, retrieve: "c-move" },
    );
    expect(counts).toMatchObject({ discovered: MODALITIES.length, migrated: MODALITIES.length, quarantined: 0 });
    // Implicit VR (the RT plan and dose) as well as explicit: the target holds the very dataset bytes.
    const stored = new Map<string, Buffer>();
    for (const oid of (await fetch(`${moveTarget.http}/instances`).then((r) => r.json())) as string[]) {
      const tags = (await fetch(`${moveTarget.http}/instances/${oid}/simplified-tags`).then((r) => r.json())) as { SOPInstanceUID: string };
      stored.set(tags.SOPInstanceUID, datasetBytes(Buffer.from(await (await fetch(`${moveTarget.http}/instances/${oid}/file`)).arrayBuffer())));
    }
    expect(stored.size).toBe(MODALITIES.length);
    for (const s of archiveStudies) expect(stored.get(sopOf(s.file))?.equals(datasetBytes(readFileSync(s.file))), s.modality).toBe(true);
  }, 180_000);

  it("unreachable DICOMweb and missing folders are reported by the connection test", async () => {
    const r = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: "unreachable",
        sources: [{ kind: "filesystem", id: "disk", path: "nowhere" }],
        target: { kind: "stow-rs", url: `http://127.0.0.1:${await freePort()}/dicom-web` },
        filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" },
      }),
    });
    expect(r.status).toBe(422);
    expect(r.body.fields["sources.0.path"][0]).toMatch(/does not exist/);
  });
});
