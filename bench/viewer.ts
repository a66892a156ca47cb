// npm run bench:viewer — the quarantine review's viewer on a 200-instance CT stack (512 × 512, 16-bit), in headless
// chromium against the whole stack (embedded PostgreSQL, dev IdP, engine, worker, web): time from opening the
// review to the first image drawn, and per-slice scroll once the stack is loaded; beside, in the same run and the
// same browser, the time to fetch the same bytes through the same console route without rendering. The study is
// quarantined by the real engine (a test-only fault flips a pixel byte at the target). BENCH_SLICES, BENCH_RUNS.
import { execSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Page } from "playwright-core";
import { freePort } from "../scripts/lib/ports";
import { startStack } from "../scripts/lib/stack";
import { startOrthanc } from "../test/orthanc";
import { makeCtStudy } from "../test/studies";
import { approveVersion } from "../test/migrations";

const SLICES = Number(process.env.BENCH_SLICES ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZE = 512;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${Math.round(ms)} ms`;
const sopOf = (file: string) => /\[(.*)\]/.exec(execSync(`dcmdump +P 0008,0018 ${file}`).toString())![1]!;

/** A synthetic phantom slice: a disc of soft tissue with a moving bright dot, in CT numbers stored with intercept. */
function phantom(dir: string, i: number) {
  const px = Buffer.alloc(SIZE * SIZE * 2);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const r = Math.hypot(x - SIZE / 2, y - SIZE / 2);
      const dot = Math.hypot(x - SIZE / 2 - 100 * Math.cos(i / 20), y - SIZE / 2 - 100 * Math.sin(i / 20)) < 20;
      px.writeUInt16LE(dot ? 2000 : r < 200 ? 1040 + ((x * y + i) % 40) : 0, (y * SIZE + x) * 2);
    }
  const f = path.join(dir, `px-${i}.raw`);
  writeFileSync(f, px);
  return f;
}

async function api(url: string, token: string, p: string, init: RequestInit = {}) {
  // Once more on a dropped socket: building the stack blocks this process for a while, and a pooled keep-alive
  // connection the server has closed meanwhile is only noticed when it is reused.
  const go = () => fetch(url + p, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });
  const res = await go().catch(go);
  return (await res.json()) as Record<string, unknown> & { status?: string; id?: string; items?: { id: string }[] };
}
async function poll<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 180_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out: ${JSON.stringify(v).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function signIn(page: Page, url: string) {
  await page.goto(url);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Email").fill("reviewer@northside.test");
  await page.getByLabel("Password").fill("demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(url);
}

async function main() {
  const root = path.resolve(import.meta.dirname, "..");
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "bench-viewer-"));
  const ports = { web: await freePort(), idp: await freePort(), engineAdmin: await freePort(), engineDicom: await freePort(), gateway: await freePort() };
  const env: NodeJS.ProcessEnv = { ...process.env, ENGINE_TEST_FAULT_FILE: path.join(dataDir, "faults.json"), ENGINE_IMPORT_ROOT: path.join(dataDir, "import") };
  for (const k of ["DATABASE_URL", "ENGINE_DATABASE_URL", "DATABASE_OWNER_URL", "AUTH_OIDC_ISSUER", "AUTH_URL", "AUTH_SECRET", "ENGINE_ADMIN_TOKEN"]) delete env[k];
  console.log(`viewer benchmark: ${SLICES} CT slices of ${SIZE} × ${SIZE} (16-bit); starting the stack`);
  const stack = await startStack({ root, dataDir, ports, env, quiet: !process.env.BENCH_VERBOSE });
  const target = await startOrthanc({ aeTitle: "BENCHTGT", overwrite: true });
  const browser = await chromium.launch({ executablePath: execSync("command -v chromium", { shell: "/bin/sh" }).toString().trim(), args: ["--no-sandbox", "--headless", "--disable-gpu"] });
  try {
    const raw = mkdtempSync(path.join(os.tmpdir(), "bench-viewer-px-"));
    const folder = path.join(dataDir, "import", "northside", "stack");
    mkdirSync(folder, { recursive: true });
    const files = makeCtStudy(folder, SLICES, { patientId: "BENCH", pixels: (i) => phantom(raw, i), extra: ["-i", `(0028,0010)=${SIZE}`, "-i", `(0028,0011)=${SIZE}`, "-i", "(0028,1052)=-1024", "-i", "(0028,1053)=1"] });
    rmSync(raw, { recursive: true, force: true });
    writeFileSync(env.ENGINE_TEST_FAULT_FILE!, JSON.stringify({ flipTargetPixelOnce: [sopOf(files[SLICES >> 1]!)] }));
    const { engineAdminUrl: url, engineAdminToken: token } = stack;
    const m = await api(url, token, "/v1/tenants/northside/migrations", {
      method: "POST",
      body: JSON.stringify({ name: "bench", sources: [{ kind: "filesystem", id: "disk", path: "stack" }], target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port }, filters: { studyDateFrom: "1900-01-01", studyDateTo: "2099-12-31" } }),
    });
    await approveVersion({ url, token }, "northside", m.id!);
    await api(url, token, `/v1/tenants/northside/migrations/${m.id}/discover`, { method: "POST" });
    await poll(() => api(url, token, `/v1/tenants/northside/migrations/${m.id}`), (r) => r.status === "ready");
    await api(url, token, `/v1/tenants/northside/migrations/${m.id}/start`, { method: "POST" });
    await poll(() => api(url, token, `/v1/tenants/northside/migrations/${m.id}`), (r) => r.status === "completed");
    const itemId = (await api(url, token, "/v1/tenants/northside/quarantine")).items![0]!.id;
    const review = `${stack.webUrl}/t/northside/quarantine/${itemId}`;
    const evidence = (await api(url, token, `/v1/tenants/northside/quarantine/${itemId}`)) as unknown as { instances: { id: string; side: string; sizeBytes: number }[] };
    const sources = evidence.instances.filter((i) => i.side === "source");
    const bytes = sources.reduce((n, i) => n + i.sizeBytes, 0);
    console.log(`quarantined: ${sources.length} instances, ${(bytes / 2 ** 20).toFixed(1)} MiB; ${review}`);

    const login = await browser.newContext();
    await signIn(await login.newPage(), review);
    const state = await login.storageState();
    await login.close();

    const rows: { first: number; interactive: number; fetchFirst: number; fetchAll: number; loadAll: number; perSlice: number }[] = [];
    for (let run = 0; run < RUNS; run++) {
      // A fresh context per run: nothing cached in the browser, the session cookie only.
      const ctx = await browser.newContext({ storageState: state, viewport: { width: 1600, height: 1000 } });
      const page = await ctx.newPage();
      await page.goto(review);
      await page.waitForFunction(() => (window as unknown as { __viewer?: unknown }).__viewer, undefined, { timeout: 60_000 });
      // Cornerstone's interactive viewport has drawn the first image (scroll, window/level from here on).
      const interactive = await page.evaluate(() => performance.getEntriesByName("viewer:first-image")[0]!.startTime);
      // Before it, the server-rendered preview (a PNG of the same instance, windowed): the time the browser painted
      // it, from Element Timing (only images that loaded and were painted have an entry). It counts as the first
      // image drawn: the reviewer sees the decoded image; without one, the first image is the viewer's.
      const preview = await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            new PerformanceObserver((list) => {
              const e = list.getEntries().find((x) => (x as PerformanceEntry & { identifier?: string }).identifier === "viewer-preview") as (PerformanceEntry & { renderTime: number; loadTime: number; naturalWidth: number }) | undefined;
              if (e && e.naturalWidth > 0) resolve(e.renderTime || e.loadTime);
            }).observe({ type: "element", buffered: true });
            setTimeout(() => resolve(-1), 200);
          }),
      );
      const first = preview >= 0 ? Math.min(preview, interactive) : interactive;
      // (no named functions inside evaluate: tsx would wrap them in a helper the page does not have)
      const phases = await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
        const marks = ["viewer:effect", "viewer:first-bytes", "viewer:cornerstone-ready", "viewer:cornerstone-imported"].map((n) => Math.round(performance.getEntriesByName(n)[0]?.startTime ?? -1));
        const png = performance.getEntriesByType("resource").find((r) => r.name.endsWith("/preview")) as PerformanceResourceTiming | undefined;
        return `server response ${Math.round(nav.responseStart)}, html done ${Math.round(nav.responseEnd)}, first paint ${Math.round(performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1)}, preview requested ${Math.round(png?.requestStart ?? -1)} fetched ${Math.round(png?.responseEnd ?? -1)}, hydrated (effect) ${marks[0]}, first bytes ${marks[1]}, cornerstone imported ${marks[3]}, initialized ${marks[2]}`;
      });
      // What held the main thread before the first paint (long tasks: script evaluation, style, layout).
      const busy = await page.evaluate(
        () =>
          new Promise<string>((resolve) => {
            new PerformanceObserver((list) => {
              const fcp = performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? Infinity;
              resolve(list.getEntries().filter((t) => t.startTime < fcp).map((t) => `${Math.round(t.startTime)}+${Math.round(t.duration)}`).join(", ") || "none");
            }).observe({ type: "longtask", buffered: true });
            setTimeout(() => resolve("none"), 200);
          }),
      );
      console.log(`  phases (ms after opening): ${phases}; long tasks before the first paint (start+ms): ${busy}`);
      await page.waitForFunction((n) => (window as unknown as { __viewer: { frames: () => number } }).__viewer.frames() >= n, sources.length, { timeout: 120_000 });
      const loadAll = await page.evaluate(() => performance.now());
      const perSlice = await page.evaluate(async (n) => {
        const v = (window as unknown as { __viewer: { show: (i: number) => Promise<number> } }).__viewer;
        const t = performance.now();
        for (let i = 1; i < n; i++) await v.show(i);
        return (performance.now() - t) / (n - 1);
      }, sources.length);
      await ctx.close();
      // The baseline: the same bytes through the same route, fetched the way the viewer does (first, then six at a time), nothing drawn.
      const base = await browser.newContext({ storageState: state });
      const bp = await base.newPage();
      await bp.goto(`${stack.webUrl}/api/healthz`);
      const urls = sources.map((s) => `/api/t/northside/quarantine/${itemId}/instances/${s.id}`);
      const fetched = await bp.evaluate(async (list) => {
        const t = performance.now();
        await (await fetch(list[0]!)).arrayBuffer();
        const firstMs = performance.now() - t;
        let next = 1;
        await Promise.all(Array.from({ length: 6 }, async () => { while (next < list.length) await (await fetch(list[next++]!)).arrayBuffer(); }));
        return { firstMs, allMs: performance.now() - t };
      }, urls);
      await base.close();
      rows.push({ first, interactive, fetchFirst: fetched.firstMs, fetchAll: fetched.allMs, loadAll, perSlice });
      console.log(`run ${run + 1}: first image ${fmt(first)} after opening the review (${preview >= 0 ? `the preview; the viewer's own at ${fmt(interactive)}` : "no preview painted: the viewer's own"}; fetch of the first instance alone ${fmt(fetched.firstMs)}); whole stack in the viewer at ${fmt(loadAll)} (plain fetch of all ${fmt(fetched.allMs)}); scroll ${perSlice.toFixed(1)} ms/slice`);
    }
    const med = (k: keyof (typeof rows)[number]) => median(rows.map((r) => r[k]));
    console.log("");
    console.log(`median of ${RUNS} runs                          | viewer         | plain fetch, same bytes, same route`);
    console.log(`first image drawn (from opening the review)  | ${fmt(med("first")).padEnd(14)} | first instance fetched: ${fmt(med("fetchFirst"))} (aim: first image < 500 ms)`);
    console.log(`first image in the interactive viewer        | ${fmt(med("interactive")).padEnd(14)} |`);
    console.log(`whole stack                                  | ${fmt(med("loadAll")).padEnd(14)} | all ${sources.length} fetched: ${fmt(med("fetchAll"))}`);
    console.log(`scroll, once loaded                          | ${med("perSlice").toFixed(1)} ms/slice = ${(1000 / med("perSlice")).toFixed(0)} slices/s (aim: ≥ 20 slices/s)`);
  } finally {
    await browser.close();
    await target.stop();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
