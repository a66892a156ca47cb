// What a newcomer sees after a fresh `npm start` with the demo migration on (README, "The demo migration"): its
// dashboard's burn-down with the forecast band, a reviewer's view of a demo quarantine item with its images, and
// the export target's file-set: the DICOMDIR reads with dcmdump, lists files that exist, and every file's dataset
// hashes to what the engine recorded for it. The global e2e stack runs without the demo (DEMO_MIGRATION=0), so
// this spec runs the real `npm start` on fresh ports and a fresh data directory, and stops it with Ctrl-C.
import { spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { DEMO_MIGRATION_NAME, DEMO_TENANT } from "../scripts/demo/migration";
import { datasetBytes } from "../test/dcmtk";
import { signIn } from "./helpers";
import { interrupt, npmStartEnv, stackProcesses, start } from "./npm-start";

const mark = `demo-migration-test-${randomUUID()}`;

/** The viewer's canvas, read back: the share of its pixels that are drawn (not black). */
const drawnShare = (page: Page) =>
  page.getByTestId("viewer-canvas").locator("canvas").first().evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext("2d")?.getImageData(0, 0, c.width, c.height).data;
    if (!d) return 0;
    let drawn = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i]! + d[i + 1]! + d[i + 2]! > 0) drawn++;
    return drawn / (d.length / 4);
  });

/** Points in an SVG path's `d` (its move and line commands). */
const pathPoints = (d: string | null) => (d?.match(/[ML]/g) ?? []).length;

test.describe("the demo migration after a fresh npm start", () => {
  let running: ChildProcess | undefined;
  let dataDir: string | undefined;
  test.afterAll(async () => {
    if (running?.exitCode === null) await interrupt(running, mark).catch(() => {});
    for (const p of stackProcesses(mark)) process.kill(Number(p.split(" ")[0]), "SIGKILL");
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("burn-down with its band, a quarantined study's images, and an export whose DICOMDIR and hashes check out", async ({ browser }) => {
    test.setTimeout(12 * 60_000);
    // Made here, not at load: Playwright also loads this file in its main process to list the tests.
    dataDir = mkdtempSync(path.join(os.tmpdir(), "demo-migration-test-"));
    const exportRoot = path.join(dataDir, "export", DEMO_TENANT, "offline-handoff");
    const { ports, env } = await npmStartEnv(dataDir, mark);
    // The demo as `npm start` makes it, whatever the shell says (the e2e stack's own setting is DEMO_MIGRATION=0).
    for (const k of ["DEMO_MIGRATION", "ENGINE_IMPORT_ROOT", "ENGINE_EXPORT_ROOT", "ENGINE_BLOB_DIR"]) delete env[k];
    const stack = await start(env);
    running = stack.child;
    try {
      const web = `http://localhost:${ports.WEB_PORT}`;
      const devEnv = Object.fromEntries([...readFileSync(path.join(dataDir, "dev.env"), "utf8").matchAll(/^export (\w+)='(.*)'$/gm)].map((m) => [m[1]!, m[2]!]));
      const engineApi = async (p: string, init: RequestInit = {}) => {
        const res = await fetch(`${devEnv.ENGINE_ADMIN_URL}${p}`, { ...init, headers: { authorization: `Bearer ${devEnv.ENGINE_ADMIN_TOKEN}`, "content-type": "application/json" } });
        return { status: res.status, body: await res.json() };
      };
      const base = `/v1/tenants/${DEMO_TENANT}`;
      const list = await engineApi(`${base}/migrations`);
      const demo = (list.body.migrations as { id: string; plan: { name: string } }[]).find((m) => m.plan.name === DEMO_MIGRATION_NAME);
      expect(demo, "the launcher created the demo migration").toBeTruthy();
      const id = demo!.id;
      const dashboard = async () => (await engineApi(`${base}/migrations/${id}/dashboard`)).body;
      // The demo runs 06:00–22:00 UTC only; at night nothing would move, so the spec opens its window the way an
      // operator would (a settings change, in the event feed) rather than fail for the time of day.
      // Forecasting needs five worked minutes, counted from when the window opened (now, if the spec opens it).
      let workFrom = 0;
      if (!(await dashboard()).windowOpenNow) {
        workFrom = Date.now();
        const changed = await engineApi(`${base}/migrations/${id}/settings`, { method: "PATCH", body: JSON.stringify({ windows: null, changedBy: { userId: "e2e", name: "demo-migration spec (outside the demo's window)" } }) });
        expect(changed.status, JSON.stringify(changed.body)).toBe(200);
      }
      const startedAt = Date.parse((await dashboard()).events.find((e: { type: string }) => e.type === "migration.started").createdAt);

      // The two faulty studies are the oldest, so the engine takes them first; the next one is migrated (and
      // exported) at once: the cap only holds back what follows it.
      await expect.poll(async () => (await engineApi(`${base}/migrations/${id}`)).body.counts.quarantined, { timeout: 120_000, intervals: [1000] }).toBe(2);
      await expect.poll(async () => (await engineApi(`${base}/migrations/${id}`)).body.counts.migrated, { timeout: 120_000, intervals: [1000] }).toBeGreaterThanOrEqual(1);

      // The tenant admin opens the demo migration from the list: the burn-down's observed line has points.
      const admin = await (await browser.newContext()).newPage();
      await signIn(admin, "admin@northside.test", "demo", `/t/${DEMO_TENANT}/migrations`, web);
      await expect(admin.getByTestId("migration-row").filter({ hasText: DEMO_MIGRATION_NAME })).toBeVisible();
      await admin.getByRole("link", { name: DEMO_MIGRATION_NAME }).click();
      const burnDown = admin.getByTestId("burn-down");
      await expect(burnDown.locator("svg").first()).toBeVisible();
      // Recharts draws each series as a layer of its own: the observed "Remaining" line is the last one.
      await expect.poll(async () => pathPoints(await burnDown.locator(".recharts-line-curve").last().getAttribute("d")), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);

      // The reviewer opens the pixel-data item from the queue: one instance was cut short, the other 23 are intact
      // images (the character-set item's images cannot be drawn at all: the decoder refuses the unknown character set).
      const reviewer = await (await browser.newContext()).newPage();
      await signIn(reviewer, "reviewer@northside.test", "demo", `/t/${DEMO_TENANT}/quarantine?category=corrupt_pixel_data`, web);
      const row = reviewer.getByTestId("queue-row").first();
      await expect(row).toContainText("Corrupt pixel data");
      await row.getByRole("link", { name: "Review" }).click();
      await expect(reviewer.getByTestId("viewer")).toHaveAttribute("data-state", "ready", { timeout: 60_000 });
      await reviewer.waitForFunction(() => (window as unknown as { __viewer: { positions: () => unknown[] } }).__viewer.positions().length === 24, null, { timeout: 60_000 });
      // Each instance shown in turn (viewer-pydicom.spec's way): the cut one names its problem, the rest are drawn.
      const outcomes = await reviewer.evaluate(async () => {
        const v = (window as unknown as { __viewer: { positions: () => unknown[]; show: (i: number) => Promise<number>; problem: () => string | null } }).__viewer;
        const out: { problem: string | null; drawn: number }[] = [];
        for (let i = 0; i < v.positions().length; i++) {
          await v.show(i);
          const c = document.querySelector<HTMLCanvasElement>("[data-testid=viewer-canvas] canvas");
          const d = c?.getContext("2d")?.getImageData(0, 0, c.width, c.height).data;
          let drawn = 0;
          if (d) for (let k = 0; k < d.length; k += 4) if (d[k]! + d[k + 1]! + d[k + 2]! > 0) drawn++;
          out.push({ problem: v.problem(), drawn: d ? drawn / (d.length / 4) : 0 });
        }
        return out;
      });
      expect(outcomes.filter((o) => o.problem).length, JSON.stringify(outcomes)).toBe(1);
      expect(outcomes.filter((o) => !o.problem && o.drawn > 0.2).length, JSON.stringify(outcomes)).toBe(23);
      await reviewer.evaluate(() => (window as unknown as { __viewer: { show: (i: number) => Promise<number> } }).__viewer.show(1));
      await expect.poll(() => drawnShare(reviewer), { timeout: 15_000 }).toBeGreaterThan(0.2);

      // The forecast band: the dashboard forecasts once five minutes of the run's first hour were worked (or an
      // earlier hour finished a study), from real work only; the admin's open dashboard redraws it live.
      const band = burnDown.locator(".recharts-area-area");
      await expect
        .poll(async () => ((await band.count()) ? pathPoints(await band.first().getAttribute("d")) : 0), { timeout: Math.max(30_000, Math.max(startedAt, workFrom) + 6 * 60_000 - Date.now()), intervals: [2000] })
        .toBeGreaterThanOrEqual(4);
      await expect(admin.getByTestId("eta-overall")).not.toContainText("no finish in sight");
      // The demo's weekly report, generated a few minutes in (not next Monday), is listed with its page and PDF.
      await expect.poll(async () => (await admin.reload(), admin.getByTestId("report-row").filter({ hasText: "weekly" }).count()), { timeout: 120_000, intervals: [5000] }).toBeGreaterThanOrEqual(1);

      // The export: one file-set (DICOMDIR at its root), a patient/study folder per migrated study. Checked until it
      // holds, since the next study may be half written (files before the DICOMDIR, the DICOMDIR before its record).
      let studiesChecked = 0;
      await expect(async () => {
        const dump = spawnSync("dcmdump", ["-q", "+L", path.join(exportRoot, "DICOMDIR")], { encoding: "utf8", maxBuffer: 64 << 20 });
        expect(dump.status, dump.stderr).toBe(0);
        expect(dump.stderr).toBe("");
        const referenced = new Set([...dump.stdout.matchAll(/\(0004,1500\) CS \[([^\]]+)\]/g)].map((m) => m[1]!.split("\\").join("/")));
        // The engine's verification report (what the console's closeout downloads): per instance, the hashes it recorded.
        const got = await engineApi(`${base}/migrations/${id}/report?format=json`);
        expect(got.status, JSON.stringify(got.body)).toBe(200);
        const report = got.body as { instances: { targetStudyInstanceUid: string; targetSopInstanceUid: string; expectedSha256: string; targetSha256: string }[] };
        const recorded = new Map(report.instances.map((i) => [i.targetSopInstanceUid, i]));
        const studies = readdirSync(exportRoot, { withFileTypes: true }).filter((p) => p.isDirectory()).flatMap((p) => readdirSync(path.join(exportRoot, p.name)).map((s) => `${p.name}/${s}`));
        expect(studies.length).toBeGreaterThanOrEqual(1);
        for (const folder of studies) {
          const map = JSON.parse(readFileSync(path.join(exportRoot, folder, "MAP.JSON"), "utf8")) as { studyInstanceUid: string; files: Record<string, { sopInstanceUid: string }> };
          const listed = [...referenced].filter((f) => f.startsWith(`${folder}/`));
          expect(listed.sort(), `${folder}: the DICOMDIR lists the files MAP.JSON names`).toEqual(Object.keys(map.files).sort());
          for (const fileId of listed) {
            const file = path.join(exportRoot, ...fileId.split("/"));
            expect(existsSync(file), `${fileId} exists`).toBe(true);
            const sha = createHash("sha256").update(datasetBytes(readFileSync(file))).digest("hex");
            const r = recorded.get(map.files[fileId]!.sopInstanceUid);
            expect(r, `${fileId}: the engine recorded its instance`).toBeTruthy();
            expect(r!.targetStudyInstanceUid).toBe(map.studyInstanceUid);
            expect([sha, sha]).toEqual([r!.expectedSha256, r!.targetSha256]);
          }
        }
        studiesChecked = studies.length;
      }).toPass({ timeout: 60_000, intervals: [2000] });
      console.log(`export: ${studiesChecked} studies checked against the verification report`);
    } finally {
      const child = stack.child;
      await interrupt(child, mark);
      expect(child.exitCode !== null || child.signalCode !== null, "npm start exited").toBe(true);
      expect(stackProcesses(mark)).toEqual([]);
    }
  });
});
