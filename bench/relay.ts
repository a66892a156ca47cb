// npm run bench:relay — the engine's DICOM ingest beside DCMTK storescp and Orthanc, same instances, same storescu
// load, in one run; and notify latency (result stored → router notified). Needs Debian's dcmtk, orthanc and
// python3-pydicom. Prints each figure beside its baselines and the ratios the relay issue asks for.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { loadEngineConfig } from "../engine/config";
import { createCa } from "../engine/relay/ca";
import { enrolTestRouter } from "../test/routers";
import { startEngine } from "../engine/server";
import { freePort } from "../scripts/lib/ports";
import { benchDatabases } from "./lib/databases";

const COUNT = Number(process.env.BENCH_INSTANCES ?? 500);
/** Instances each receiver takes, untimed, right after it starts (JIT, caches, the engine's spare files). */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 50);
/** Rounds: in each, every receiver takes its own run, in turn. Ratios are taken within a round (see main). */
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** storescu processes sending in parallel, each its share of the instances on its own association (default 1) */
const ASSOCIATIONS = Number(process.env.BENCH_ASSOCIATIONS ?? 1);
const SOURCE = process.env.BENCH_SOURCE ?? "/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm";
const env = { ...process.env, TCP_NODELAY: "1" };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

function makeInstances() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-instances-"));
  for (let i = 0; i < COUNT * RUNS + WARMUP; i++) copyFileSync(SOURCE, path.join(dir, `i${i}.dcm`));
  // New SOP Instance UIDs so every instance is distinct (dcmodify -gin), without changing anything else.
  const all = readdirSync(dir).map((f) => path.join(dir, f));
  for (let i = 0; i < all.length; i += 100) execFileSync("dcmodify", ["-nb", "-gin", ...all.slice(i, i + 100)], { env });
  // One set per run: a receiver keeps what it was sent, and a second copy of an instance would be a replacement.
  const runs = Array.from({ length: RUNS }, (_, r) => all.slice(WARMUP + r * COUNT, WARMUP + (r + 1) * COUNT));
  const bytes = runs[0]!.reduce((n, f) => n + statSync(f).size, 0);
  return { dir, runs, warmup: all.slice(0, WARMUP), bytes };
}

function waitPort(port: number, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise<void>((resolve, reject) => {
    const tryOnce = () => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve()));
      s.once("error", () => (Date.now() > deadline ? reject(new Error(`port ${port} never opened`)) : setTimeout(tryOnce, 100)));
    };
    tryOnce();
  });
}

/** One storescu association sending every file; returns seconds. Async: the engine runs in this process. */
function storescu(port: number, calledAe: string, files: string[]) {
  const t0 = performance.now();
  return new Promise<number>((resolve, reject) => {
    execFile("storescu", ["-aet", "BENCH", "-aec", calledAe, "127.0.0.1", String(port), ...files], { env, maxBuffer: 64 << 20 }, (err, _out, stderr) => {
      if (!err) return resolve((performance.now() - t0) / 1000);
      const lines = String(stderr).split("\n").filter((l) => l.startsWith("E:") || l.startsWith("F:"));
      reject(new Error(`storescu to ${calledAe} failed: ${lines.slice(0, 5).join(" | ")}`));
    });
  });
}

type Receiver = { name: string; start: () => Promise<{ port: number; ae: string; stop: () => Promise<void> }> };
type Measured = { name: string; seconds: number; runs: number[]; cpuMsPerInstance: number };

/**
 * Starts every receiver and warms it up, then runs them once per round, in turn, each round starting with the next
 * receiver (so drift in the machine's load, and whatever a run leaves behind, falls on all of them alike), each run
 * after a `sync` (no dirty pages left by the previous one) and with its own
 * instances: steady state, as a long-running service sees it. Times are seconds per run; CPU is this process's
 * (the engine's, for the engine's runs) per instance, in ms, which is less noisy than the rate.
 */
async function measureAll(receivers: Receiver[], runs: string[][], warmup: string[]): Promise<Measured[]> {
  const peers = [];
  for (const receiver of receivers) {
    const peer = await receiver.start();
    if (warmup.length) await storescu(peer.port, peer.ae, warmup);
    peers.push(peer);
  }
  const secs = receivers.map(() => [] as number[]);
  const cpu = receivers.map(() => [] as number[]);
  const profiler = await startProfile();
  for (const [round, files] of runs.entries()) {
    const shares = Array.from({ length: ASSOCIATIONS }, (_, i) => files.filter((_f, j) => j % ASSOCIATIONS === i));
    // Each round starts with the next receiver, so none always runs right after another's writes.
    for (let k = 0; k < peers.length; k++) {
      const i = (round + k) % peers.length;
      const peer = peers[i]!;
      execFileSync("sync");
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all(shares.map((share) => storescu(peer.port, peer.ae, share)));
      secs[i]!.push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpu[i]!.push((c.user + c.system) / 1000 / files.length);
    }
  }
  await profiler?.stop();
  for (const peer of peers) await peer.stop();
  return receivers.map((receiver, i) => ({ name: receiver.name, seconds: median(secs[i]!), runs: secs[i]!, cpuMsPerInstance: median(cpu[i]!) }));
}

/**
 * BENCH_PROFILE=<file>: a CPU profile of this process (the engine's main thread) over the timed runs only,
 * without start-up, warm-up or the instance set's preparation (node --cpu-prof would take all of them in).
 */
async function startProfile() {
  const file = process.env.BENCH_PROFILE;
  if (!file) return null;
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 200 });
  await post("Profiler.start");
  return {
    stop: async () => {
      const { profile } = (await post("Profiler.stop")) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** Receivers' folders, removed at the end: deleting files while another receiver runs would slow its syncs. */
const scratch: string[] = [];
const scratchDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  scratch.push(dir);
  return dir;
};

async function stopChild(child: ChildProcess) {
  child.kill();
  await new Promise((r) => child.once("exit", r));
}

async function storescp() {
  const port = await freePort();
  const dir = scratchDir("bench-storescp-");
  const child = spawn("storescp", ["-aet", "STORESCP", "+xa", "-od", dir, String(port)], { env, stdio: "ignore" });
  await waitPort(port);
  return {
    port,
    ae: "STORESCP",
    stop: () => stopChild(child),
  };
}

async function orthanc() {
  const [port, http] = [await freePort(), await freePort()];
  const dir = scratchDir("bench-orthanc-");
  writeFileSync(
    path.join(dir, "orthanc.json"),
    JSON.stringify({ Name: "bench", DicomAet: "ORTHANC", DicomPort: port, HttpPort: http, StorageDirectory: path.join(dir, "db"), IndexDirectory: path.join(dir, "db"), RemoteAccessAllowed: false, DicomCheckCalledAet: false, Plugins: [] }),
  );
  const child = spawn("Orthanc", [path.join(dir, "orthanc.json")], { env, stdio: "ignore" });
  await waitPort(port, 30_000);
  return {
    port,
    ae: "ORTHANC",
    stop: () => stopChild(child),
  };
}

async function main() {
  const { runs, warmup, bytes, dir } = makeInstances();
  const mb = bytes / 1e6;
  console.log(`relay ingest benchmark: ${COUNT} instances of ${path.basename(SOURCE)} (${(bytes / COUNT / 1024).toFixed(1)} KiB each, ${mb.toFixed(1)} MB), ${ASSOCIATIONS === 1 ? "one storescu association" : `${ASSOCIATIONS} parallel storescu associations`}, ${RUNS} rounds (rates: median run; ratios: median over rounds), each receiver warmed up with ${WARMUP} instances first`);

  const urls = await benchDatabases();
  const pgDir = urls.dir;
  const ca = await createCa("bench");
  writeFileSync(path.join(pgDir, "ca.pem"), ca.certPem);
  writeFileSync(path.join(pgDir, "ca.key"), ca.keyPem);
  const token = randomBytes(24).toString("hex");
  const masterKey = randomBytes(32).toString("base64");

  const cleanUp = async () => {
    await urls.drop();
    for (const d of [dir, ...scratch]) rmSync(d, { recursive: true, force: true });
  };

  let round = 0;
  const engineReceiver = async () => {
    const dicomPort = await freePort();
    const gatewayPort = await freePort();
    const blobDir = scratchDir("bench-blobs-");
    const engine = await startEngine(
      loadEngineConfig({
        ENGINE_DATABASE_URL: urls.engineUrl,
        ENGINE_ADMIN_TOKEN: token,
        ENGINE_ADMIN_PORT: "0",
        ENGINE_DICOM_PORT: String(dicomPort),
        ENGINE_GATEWAY_PORT: String(gatewayPort),
        ENGINE_GATEWAY_HOST: "127.0.0.1",
        ENGINE_MASTER_KEY: masterKey,
        ENGINE_BLOB_DIR: blobDir,
        ENGINE_CA_CERT_FILE: path.join(pgDir, "ca.pem"),
        ENGINE_CA_KEY_FILE: path.join(pgDir, "ca.key"),
      }),
      process.env.BENCH_DEBUG ? (m) => console.log(`[engine] ${m}`) : () => {},
    );
    const slug = `bench-${++round}`;
    const ae = `BENCH${round}`;
    const call = (p: string, method: string, body: unknown) =>
      fetch(engine.url + p, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
    await call(`/v1/tenants/${slug}`, "PUT", { ttlDays: 7, calledAeTitles: [ae], allowedCallingAeTitles: [], version: 1 });
    // A connected router, so every stored result is notified (and notify latency can be measured). It runs in a
    // process of its own, as on-prem: its TLS and JSON work is not the engine's.
    const bundle = await enrolTestRouter(engine, token, slug, "bench");
    const bundleFile = path.join(blobDir, "router.json");
    writeFileSync(bundleFile, JSON.stringify({ url: `wss://localhost:${gatewayPort}`, ...bundle }));
    const router = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "lib", "bench-router.ts"), bundleFile], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      router.stdout.on("data", (d) => String(d).includes("connected") && resolve());
      router.once("exit", (code) => reject(new Error(`bench router exited (${code})`)));
    });
    return {
      port: dicomPort,
      ae,
      slug,
      stop: async () => {
        router.kill();
        await new Promise((r) => router.once("exit", r));
        await engine.close();
      },
    };
  };

  // BENCH_ENGINE_ONLY=1 skips the baselines (for profiling the engine with node --cpu-prof); no ratios then.
  if (process.env.BENCH_ENGINE_ONLY) {
    const [r] = (await measureAll([{ name: "engine", start: engineReceiver }], runs, warmup)) as [Measured];
    console.log(`engine ${(COUNT / r.seconds).toFixed(0)} instances/s   runs: ${r.runs.map((s) => (COUNT / s).toFixed(0)).join(", ")}   CPU ${r.cpuMsPerInstance.toFixed(2)} ms/instance`);
    await cleanUp();
    process.exit(0);
  }
  const results = await measureAll(
    [
      { name: "DCMTK storescp (writes files, no fsync)", start: storescp },
      { name: "Orthanc 1.10 (defaults)", start: orthanc },
      { name: "engine (stream + AES-256-GCM + fsync + hold queue row + events + notify)", start: engineReceiver },
    ],
    runs,
    warmup,
  );
  console.log("");
  for (const r of results) {
    console.log(`${r.name.padEnd(68)} ${(COUNT / r.seconds).toFixed(0).padStart(6)} instances/s ${(mb / r.seconds).toFixed(1).padStart(7)} MB/s   runs: ${r.runs.map((s) => (COUNT / s).toFixed(0)).join(", ")}`);
  }
  // This VM's speed drifts by tens of percent within a minute; receivers running in the same round see the same
  // machine, so each ratio is taken within a round and the median over rounds is the figure.
  const [scp, orth, eng] = results.map((r) => r.runs) as [number[], number[], number[]];
  const ratios = (base: number[]) => base.map((s, i) => s / eng[i]!);
  const show = (name: string, base: number[], aim: string) =>
    console.log(`engine / ${name.padEnd(8)} = ${median(ratios(base)).toFixed(2)}×  (aim ≥ ${aim}; rounds: ${ratios(base).map((x) => x.toFixed(2)).join(", ")})`);
  console.log("");
  show("Orthanc", orth, "1.5×");
  show("storescp", scp, "0.5×");
  console.log(`engine process CPU per instance (median run): ${results[2]!.cpuMsPerInstance.toFixed(2)} ms`);

  // Notify latency from the engine's own event timestamps: result.received (its transaction starts just after the
  // C-STORE response, or before it for a large instance) → result.notified (dated when the router was told).
  const sql = postgres(urls.engineUrl, { max: 1 });
  const rows = await sql<{ ms: number }[]>`
    select extract(epoch from (n.created_at - r.created_at)) * 1000 as ms
    from engine_events r join engine_events n on n.payload->>'resultId' = r.payload->>'resultId' and n.type = 'result.notified'
    where r.type = 'result.received'`;
  await sql.end();
  const lat = rows.map((r) => Number(r.ms));
  console.log(`notify latency (stored → router notified), ${lat.length} results: p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms  (aim p99 < 50 ms)`);

  await cleanUp();
  process.exit(0);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
