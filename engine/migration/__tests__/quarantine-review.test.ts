// The clinical review API against real Orthanc archives: an instance the target returns with one pixel byte
// flipped (a test hook) is quarantined with its evidence kept encrypted; the tenant's queue lists it with
// counts, the viewer's bytes, the parsed header and the source/target difference are served, another tenant sees
// nothing, and a signed repair re-runs the study of the completed migration by itself until it verifies.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";
import { flipPixelByte } from "../test-faults";
import { approveVersion } from "../../../test/migrations";

const TOKEN = "quarantine-review-".padEnd(48, "q");
const uidOf = (tag: string, file: string) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", tag, file]).toString())![1]!;

describe("quarantine review API", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  const studies = makeStudies(3, ["2024-03-01"]);
  const corrupted = studies[1]!.file;
  const corruptOnce = new Set([uidOf("0008,0018", corrupted)]);

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    const type = res.headers.get("content-type") ?? "";
    return { status: res.status, headers: res.headers, body: type.includes("json") ? await res.json() : Buffer.from(await res.arrayBuffer()) };
  };

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, {
      token: TOKEN,
      hooks: {
        migration: {
          // The target's copy comes back with one pixel byte flipped, once.
          afterVerifyRetrieve: async (files) => {
            for (const file of files) {
              if (!corruptOnce.delete(uidOf("0008,0018", file))) continue;
              await flipPixelByte(file);
            }
          },
        },
      },
    });
    [source, target] = await Promise.all([startOrthanc({ aeTitle: "QSOURCE" }), startOrthanc({ aeTitle: "QTARGET", overwrite: true })]);
    for (const s of studies) await source.upload(s.file);
  }, 120_000);
  afterAll(async () => {
    await source?.stop();
    await target?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("keeps the evidence, serves queue, bytes, header and difference, isolates tenants, and re-runs a repaired study", async () => {
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: "review",
        sources: [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: source.port }],
        target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" },
        concurrency: 1,
      }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const mid = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", mid);
    await api(`/v1/tenants/north/migrations/${mid}/discover`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${mid}`), (r) => r.body.status === "ready", 60_000);
    await api(`/v1/tenants/north/migrations/${mid}/start`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${mid}`), (r) => r.body.status === "completed", 120_000, 300);

    const page = await api("/v1/tenants/north/quarantine");
    expect(page.status).toBe(200);
    expect(page.body.counts).toEqual({ hash_mismatch: 1 });
    const [item] = page.body.items;
    expect(item).toMatchObject({ studyInstanceUid: uidOf("0020,000d", corrupted), category: "hash_mismatch", state: "new", migrationName: "review", modalities: expect.any(Array) });
    expect(item.reason).toMatch(/differs at the target/);
    expect((await api("/v1/tenants/north/quarantine?category=malformed_header")).body.items).toEqual([]);
    expect((await api("/v1/tenants/north/quarantine?state=bogus")).status).toBe(400);

    const detail = await api(`/v1/tenants/north/quarantine/${item.id}`);
    const sides = detail.body.instances.map((i: { side: string }) => i.side);
    expect(sides).toEqual(["source", "target"]);
    const [src, tgt] = detail.body.instances;
    expect(src.sopInstanceUid).toBe(uidOf("0008,0018", corrupted));
    expect(tgt.sopInstanceUid).toBe(src.sopInstanceUid);

    const bytes = await api(`/v1/tenants/north/quarantine/${item.id}/evidence/${src.id}`);
    expect(bytes.headers.get("content-type")).toBe("application/dicom");
    const body = bytes.body as Buffer;
    expect(body.toString("latin1", 128, 132)).toBe("DICM");
    expect(createHash("sha256").update(body).digest("hex")).toBe(src.sha256);
    // At rest the evidence is ciphertext under the tenant's key: no DICOM prefix, no patient id in the clear.
    const blobDir = path.join(engine.blobDir, "north");
    const blobFiles = await readdir(blobDir);
    expect(blobFiles.length).toBe(2);
    for (const f of blobFiles) {
      const raw = await readFile(path.join(blobDir, f));
      expect(raw.includes(Buffer.from("DICM"))).toBe(false);
      expect(raw.includes(Buffer.from("PAT1"))).toBe(false);
    }

    // The preview the review screen shows before its viewer loads: a PNG of the instance's own size.
    const preview = await api(`/v1/tenants/north/quarantine/${item.id}/evidence/${src.id}/preview`);
    expect(preview.status).toBe(200);
    expect(preview.headers.get("content-type")).toBe("image/png");
    const png = preview.body as Buffer;
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const dims = (tag: string) => Number(execFileSync("dcmdump", ["+P", tag, corrupted]).toString().split(/\s+/)[2]); // "(0028,0010) US 64 …"
    expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual({ width: dims("0028,0011"), height: dims("0028,0010") });
    expect((await api(`/v1/tenants/north/quarantine/${item.id}/evidence/${src.id}/preview`)).body).toEqual(png); // cached, same bytes
    expect((await api(`/v1/tenants/north/quarantine/${item.id}/evidence/00000000-0000-4000-8000-000000000000/preview`)).status).toBe(404);

    const header = await api(`/v1/tenants/north/quarantine/${item.id}/evidence/${src.id}/header`);
    expect(header.body.error).toBeNull();
    expect(header.body.elements).toEqual(expect.arrayContaining([expect.objectContaining({ tag: "00100020", name: "PatientID", vr: "LO", value: "PAT1" })]));

    const diff = await api(`/v1/tenants/north/quarantine/${item.id}/diff`);
    expect(diff.body.expectedSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(diff.body.targetSha256).not.toBe(diff.body.expectedSha256);
    expect(diff.body.differences.map((d: { name: string }) => d.name)).toEqual(["PixelData"]);

    // Another tenant: nothing listed, the item and its bytes are not found.
    expect((await api("/v1/tenants/south/quarantine")).body).toEqual({ items: [], counts: {}, nextCursor: null });
    expect((await api(`/v1/tenants/south/quarantine/${item.id}`)).status).toBe(404);
    expect((await api(`/v1/tenants/south/quarantine/${item.id}/evidence/${src.id}`)).status).toBe(404);
    expect((await api(`/v1/tenants/south/quarantine/${item.id}/evidence/${src.id}/preview`)).status).toBe(404);

    const signer = { userId: "u-1", name: "Rita Reviewer", meaning: "I approve this repair", signatureId: "sig-1" };
    const noValue = await api(`/v1/tenants/north/quarantine/${item.id}/decision`, { method: "POST", body: JSON.stringify({ decision: "repair", reason: "resend", patch: [{ op: "set", tag: "00081030" }], signer }) });
    expect(noValue.status).toBe(400);
    const repaired = await api(`/v1/tenants/north/quarantine/${item.id}/decision`, {
      method: "POST",
      body: JSON.stringify({ decision: "repair", reason: "pixel byte damaged in transit; resend", patch: [{ op: "set", tag: "00081030", value: "Resent after review" }, { op: "remove", tag: "00081090" }], signer }),
    });
    expect(repaired.status, JSON.stringify(repaired.body)).toBe(200);
    // Nobody starts the completed migration again: the runners take the repaired study and it verifies.
    const resolved = await until(() => api(`/v1/tenants/north/quarantine/${item.id}`), (r) => r.body.item.state === "resolved", 60_000, 300);
    expect(resolved.body.item.decision).toMatchObject({ decision: "repair", signer });
    const m = await api(`/v1/tenants/north/migrations/${mid}`);
    expect(m.body.counts).toMatchObject({ migrated: 3, quarantined: 0 });
    expect((await api("/v1/tenants/north/quarantine")).body.counts).toEqual({});
    expect((await api("/v1/tenants/north/quarantine?state=resolved")).body.items.map((i: { id: string }) => i.id)).toEqual([item.id]);
  }, 240_000);
});
