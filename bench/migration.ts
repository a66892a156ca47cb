// npm run bench:migration — Orthanc → Orthanc through the engine (extract, hash, send, retrieve back, compare,
// record) with one worker and with two, beside the same transfer without verification in the same run: each
// study fetched from the source with getscu and sent to the target with storescu, nothing else. Needs Debian's
// dcmtk, orthanc and python3-pydicom. BENCH_STUDIES sets the number of studies (default 200).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startTestEngine } from "../test/engine";
import { benchDatabases } from "./lib/databases";
import { startOrthanc } from "../test/orthanc";
import { makeStudies } from "../test/studies";
import { approveVersion } from "../test/migrations";

const STUDIES = Number(process.env.BENCH_STUDIES ?? 200);
const run = promisify(execFile);
const env = { ...process.env, TCP_NODELAY: "1" };

async function baseline(source: { port: number }, target: { port: number }, uids: string[]) {
  const t0 = performance.now();
  let bytes = 0;
  for (const uid of uids) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "bench-mig-"));
    await run("getscu", ["-S", "-k", "QueryRetrieveLevel=STUDY", "-k", `StudyInstanceUID=${uid}`, "-aet", "BENCH", "-aec", "LEGACY", "+B", "-od", dir, "127.0.0.1", String(source.port)], { env });
    const files = readdirSync(dir).map((f) => path.join(dir, f));
    await run("storescu", ["-aet", "BENCH", "-aec", "BASELINE", "127.0.0.1", String(target.port), ...files], { env });
    for (const f of files) bytes += statSync(f).size;
    rmSync(dir, { recursive: true, force: true });
  }
  return { seconds: (performance.now() - t0) / 1000, bytes };
}

async function main() {
  console.log(`migration benchmark: ${STUDIES} studies (pydicom CT_small and MR_small with new UIDs), Orthanc → Orthanc on loopback`);
  const studies = makeStudies(STUDIES, ["2021-04-01", "2021-04-02", "2021-04-03", "2021-04-04"]);
  const source = await startOrthanc({ aeTitle: "LEGACY" });
  for (const s of studies) await source.upload(s.file);
  const uids = (await Promise.all((await source.studies()).map((id) => fetch(`${source.http}/studies/${id}`).then((r) => r.json())))).map(
    (s: { MainDicomTags: { StudyInstanceUID: string } }) => s.MainDicomTags.StudyInstanceUID,
  );

  const dbs = await benchDatabases();
  const token = randomBytes(24).toString("hex");
  const engine = await startTestEngine(dbs.engineUrl, { token, blobDir: path.join(dbs.dir, "blobs") });
  const api = (p: string, init: RequestInit = {}) => fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } }).then((r) => r.json());
  const waitFor = async (id: string, status: string) => {
    for (;;) {
      const m = await api(`/v1/tenants/bench/migrations/${id}`);
      if (m.status === status) return m;
      if (m.status === "failed") throw new Error(m.lastError);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const rows: { name: string; seconds: number; bytes: number }[] = [];
  const base = await startOrthanc({ aeTitle: "BASELINE" });
  rows.push({ name: "baseline: getscu + storescu, no verification", ...(await baseline(source, base, uids)) });
  await base.stop();
  for (const workers of [1, 2]) {
    const target = await startOrthanc({ aeTitle: "NEWARCH" });
    const m = await api("/v1/tenants/bench/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: `bench ${workers}`,
        sources: [{ kind: "dicom", id: "legacy", aeTitle: "LEGACY", host: "127.0.0.1", port: source.port }],
        target: { kind: "dicom", aeTitle: "NEWARCH", host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: "2021-01-01", studyDateTo: "2021-12-31" },
        concurrency: workers,
      }),
    });
    await approveVersion({ url: engine.url, token }, "bench", m.id);
    await api(`/v1/tenants/bench/migrations/${m.id}/discover`, { method: "POST" });
    await waitFor(m.id, "ready");
    const t0 = performance.now();
    await api(`/v1/tenants/bench/migrations/${m.id}/start`, { method: "POST" });
    const done = await waitFor(m.id, "completed");
    const seconds = (performance.now() - t0) / 1000;
    if (done.counts.migrated !== STUDIES) throw new Error(`expected ${STUDIES} migrated, got ${JSON.stringify(done.counts)}`);
    rows.push({ name: `engine, ${workers} worker${workers > 1 ? "s" : ""} (verified at the target)`, seconds, bytes: rows[0]!.bytes });
    await target.stop();
  }

  console.log("");
  for (const r of rows) {
    console.log(`${r.name.padEnd(48)} ${((STUDIES / r.seconds) * 3600).toFixed(0).padStart(8)} studies/h ${(r.bytes / 1e6 / r.seconds).toFixed(2).padStart(7)} MB/s`);
  }
  const [b, one] = [rows[0]!, rows[1]!];
  console.log(`\nverification cost, one worker: ${(((one.seconds - b.seconds) / one.seconds) * 100).toFixed(0)}% of its time (aim < 25%)`);

  await engine.close();
  await source.stop();
  await dbs.drop();
  process.exit(0);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
