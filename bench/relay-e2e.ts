// Relay delivery end to end, vendor to PACS: DCMTK storescu → engine → router agent (its own process, as on site)
// → storescp as the PACS, beside storescu → storescp directly in the same run, on a CT series of 512×512 slices
// (0.5 MB each) made from pydicom's CT_small. Prints instances/s for both and the ratio, and the p50/p99 time from
// the vendor's C-STORE being confirmed (the result's receivedAt) to the PACS having the file, at full speed and
// at an offered 50 instances/s. BENCH_SLICES sets the series length (default 120).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startTestEngine } from "../test/engine";
import { startStorescp } from "../test/pacs";
import { enrolTestRouter, spawnAgentProcess } from "../test/routers";
import { makeCtStudy } from "../test/studies";
import { benchDatabases } from "./lib/databases";

const run = promisify(execFile);
const SLICES = Number(process.env.BENCH_SLICES ?? 120);
const TOKEN = randomBytes(24).toString("hex");

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-relay-e2e-"));
  // 512×512 16-bit pixels: the size of a real CT slice (the bytes are generated, the header is a real CT's).
  const pixels = path.join(dir, "pixels.raw");
  writeFileSync(pixels, randomBytes(512 * 512 * 2));
  const series = (name: string, n: number) => makeCtStudy(path.join(dir, name), n, { extra: ["-i", "(0028,0010)=512", "-i", "(0028,0011)=512"], pixels: () => pixels });
  const files = series("full", SLICES);
  const paced = series("paced", Math.min(SLICES, 100));
  const mb = files.reduce((n, f) => n + statSync(f).size, 0) / 1e6;
  console.log(`relay end-to-end benchmark: ${SLICES} CT slices (${(mb / SLICES).toFixed(2)} MB each), one association, loopback`);

  const dbs = await benchDatabases();
  const engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
  const baseline = await startStorescp("BASELINE");
  const pacs = await startStorescp("PACS");
  let agent: ReturnType<typeof spawnAgentProcess> | undefined;
  try {
    await fetch(`${engine.url}/v1/tenants/bench`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ ttlDays: 7, calledAeTitles: ["BENCH"], allowedCallingAeTitles: [], version: 1 }),
    });

    // Direct: the vendor's storescu to the PACS, the figure the relay is measured against.
    let t = performance.now();
    await run("storescu", ["-aet", "VENDOR", "-aec", baseline.aeTitle, "127.0.0.1", String(baseline.port), ...files]);
    const direct = (performance.now() - t) / 1000;

    // The router agent as on site: enrolled by code, its own process, forwarding to its PACS.
    const router = await enrolTestRouter(engine, TOKEN, "bench", "bench site");
    agent = spawnAgentProcess(router, { gatewayPort: engine.gatewayPort, pacs, dir });
    for (;;) {
      const list = await (await fetch(`${engine.url}/v1/tenants/bench/routers`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
      if (list.routers.some((r: { connected: boolean }) => r.connected)) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    /** Waits until the PACS holds `n` files; returns each file's arrival (mtime, ms) by SOP Instance UID. */
    const arrived = async (n: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const names = readdirSync(pacs.dir).filter((f) => !f.startsWith("."));
        if (names.length >= n) return new Map(names.map((f) => [f.replace(/^[A-Z]{2}\./, ""), statSync(path.join(pacs.dir, f)).mtimeMs]));
        if (Date.now() > deadline) throw new Error(`only ${names.length} of ${n} instances reached the PACS in ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const latencies = async (arrivals: Map<string, number>) => {
      const all: { sopInstanceUid: string; receivedAt: string }[] = [];
      let cursor: string | undefined;
      do {
        const page = await (await fetch(`${engine.url}/v1/tenants/bench/results?limit=500${cursor ? `&cursor=${cursor}` : ""}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
        all.push(...page.results);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return all.filter((r) => arrivals.has(r.sopInstanceUid)).map((r) => arrivals.get(r.sopInstanceUid)! - Date.parse(r.receivedAt));
    };

    // Relay at full speed: one association from the vendor, until the PACS has every instance.
    t = performance.now();
    await run("storescu", ["-aet", "VENDOR", "-aec", "BENCH", "127.0.0.1", String(engine.dicomPort), ...files]);
    const sent = (performance.now() - t) / 1000;
    const full = await arrived(files.length, 600_000);
    const relay = (performance.now() - t) / 1000;
    const fullLatency = await latencies(full);

    // Offered 50 instances/s: one single-instance association every 20 ms.
    const offered: Promise<unknown>[] = [];
    for (const f of paced) {
      offered.push(run("storescu", ["-aet", "VENDOR", "-aec", "BENCH", "127.0.0.1", String(engine.dicomPort), f]));
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(offered);
    const pacedArrivals = await arrived(files.length + paced.length, 600_000);
    const pacedLatency = (await latencies(pacedArrivals)).slice(-paced.length);

    const line = (label: string, seconds: number) => `${label.padEnd(46)} ${(SLICES / seconds).toFixed(1).padStart(7)} inst/s ${((mb / seconds) * 8).toFixed(0).padStart(6)} Mbit/s`;
    console.log(line("direct storescu → storescp (baseline)", direct));
    console.log(line("relay storescu → engine → agent → storescp", relay) + `   ${(direct / relay).toFixed(3)}× direct (aim ≥ 0.3×)`);
    console.log(`${"  of which the vendor's own send".padEnd(46)} ${(SLICES / sent).toFixed(1).padStart(7)} inst/s`);
    console.log(`C-STORE confirmed → at the PACS, full speed:   p50 ${pct(fullLatency, 50).toFixed(0)} ms, p99 ${pct(fullLatency, 99).toFixed(0)} ms`);
    console.log(`C-STORE confirmed → at the PACS, 50 inst/s:    p50 ${pct(pacedLatency, 50).toFixed(0)} ms, p99 ${pct(pacedLatency, 99).toFixed(0)} ms (aim p99 < 1000 ms)`);
  } finally {
    agent?.kill("SIGKILL");
    pacs.stop();
    baseline.stop();
    await engine.close();
    await dbs.drop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
