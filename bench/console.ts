// npm run bench:console — the hold queue's API route (/api/t/<tenant>/hold-queue: session, membership, engine
// client, response) at 1,000,000 results, beside the engine's own endpoint for the same query in the same run, so
// the console's overhead shows as a ratio. Starts the whole stack (embedded PostgreSQL, dev IdP, engine, worker,
// web) on free ports with a temporary data directory; signs in through the real IdP with Debian's chromium.
import { execSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { chromium } from "playwright-core";
import { freePort } from "../scripts/lib/ports";
import { startStack } from "../scripts/lib/stack";

const RESULTS = Number(process.env.BENCH_RESULTS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 60);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function sessionCookie(webUrl: string) {
  const browser = await chromium.launch({ executablePath: execSync("command -v chromium", { shell: "/bin/sh" }).toString().trim(), args: ["--no-sandbox", "--headless"] });
  try {
    const page = await browser.newPage();
    await page.goto(`${webUrl}/`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByLabel("Email").fill("admin@northside.test");
    await page.getByLabel("Password").fill("demo");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/t\/northside$/);
    return (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  } finally {
    await browser.close();
  }
}

async function main() {
  const root = path.resolve(import.meta.dirname, "..");
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "bench-console-"));
  const ports = { web: await freePort(), idp: await freePort(), engineAdmin: await freePort(), engineDicom: await freePort(), gateway: await freePort() };
  const env = { ...process.env };
  for (const k of ["DATABASE_URL", "ENGINE_DATABASE_URL", "DATABASE_OWNER_URL", "AUTH_OIDC_ISSUER", "AUTH_URL", "AUTH_SECRET", "ENGINE_ADMIN_TOKEN"]) delete env[k];
  console.log("console benchmark: starting the stack");
  const stack = await startStack({ root, dataDir, ports, env, quiet: true });
  try {
    const engineDb = postgres(stack.engineDatabaseUrl, { max: 1, onnotice: () => {} });
    const t0 = performance.now();
    // A year-old site's worth of results for one tenant: mostly acked history, some still held, several vendors
    // and modalities, received over the last 30 days.
    for (let from = 1; from <= RESULTS; from += 250_000) {
      const to = Math.min(RESULTS, from + 249_999);
      await engineDb`
        insert into results (id, tenant_slug, calling_ae, called_ae, peer_address, sop_class_uid, sop_instance_uid, study_instance_uid,
          series_instance_uid, modality, transfer_syntax_uid, size_bytes, sha256, blob_id, status, received_at, expires_at, status_changed_at)
        select gen_random_uuid(), 'northside', (array['AI_LUNG','AI_STROKE','AI_MAMMO','AI_FRACTURE'])[1 + g % 4], 'NORTHSIDE', '10.0.0.' || (g % 200) || ':4100',
          '1.2.840.10008.5.1.4.1.1.88.22', '1.2.826.0.1.3680043.8.498.' || g, '1.2.826.0.1.3680043.8.498.1.' || (g / 10), '1.2.826.0.1.3680043.8.498.2.' || (g / 2),
          (array['SR','SEG','SC','PR','CT','MR'])[1 + g % 6], '1.2.840.10008.1.2.1', 20000 + g % 9000, md5(g::text) || md5((g * 7)::text), null,
          (case when g % 20 = 0 then 'held' when g % 53 = 0 then 'purged' else 'acked' end)::result_status,
          date_trunc('milliseconds', now() - make_interval(secs => (${RESULTS} - g) * 2.5)), now() + interval '7 days' - make_interval(secs => (${RESULTS} - g) * 2.5), now()
        from generate_series(${from}::bigint, ${to}::bigint) g`;
    }
    await engineDb`analyze results`;
    console.log(`loaded ${fmt(RESULTS)} results in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const [deep] = await engineDb<{ received_at: Date; id: string }[]>`
      select received_at, id from results where tenant_slug = 'northside' order by received_at desc, id desc offset ${Math.floor(RESULTS / 2)} limit 1`;
    const deepCursor = Buffer.from(`${deep!.received_at.toISOString()}|${deep!.id}`).toString("base64url");
    await engineDb.end();

    const cookie = await sessionCookie(stack.webUrl);
    const queries: Record<string, { console: string; engine: string }> = {
      "first page": { console: "", engine: "limit=50" },
      "deep page (cursor at 50%)": { console: `cursor=${deepCursor}`, engine: `limit=50&cursor=${deepCursor}` },
      "filtered (held, vendor, modality)": { console: "status=held&vendor=AI_LUNG&modality=SR", engine: "limit=50&status=held&callingAe=AI_LUNG&modality=SR" },
      "filtered, matches nothing": { console: "status=held&vendor=AI_STROKE&modality=SEG", engine: "limit=50&status=held&callingAe=AI_STROKE&modality=SEG" },
    };
    const timed = async (url: string, headers: Record<string, string>) => {
      const t = performance.now();
      const res = await fetch(url, { headers });
      const body = (await res.json()) as { results?: unknown[] };
      if (!res.ok || !Array.isArray(body.results)) throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      return performance.now() - t;
    };
    console.log(`\nhold queue at ${fmt(RESULTS)} results, ${REQUESTS} requests per query (after 5 warm-up requests)`);
    console.log(`${"query".padEnd(36)} ${"console route p50 / p95".padStart(26)} ${"engine endpoint p50 / p95".padStart(28)}   ratio (p95)`);
    const all: number[] = [];
    for (const [name, q] of Object.entries(queries)) {
      const c: number[] = [];
      const e: number[] = [];
      const consoleUrl = `${stack.webUrl}/api/t/northside/hold-queue${q.console ? `?${q.console}` : ""}`;
      const engineUrl = `${stack.engineAdminUrl}/v1/tenants/northside/results?${q.engine}`;
      const engineHeaders = { authorization: `Bearer ${stack.engineAdminToken}` };
      for (let i = 0; i < 5; i++) await Promise.all([timed(consoleUrl, { cookie }), timed(engineUrl, engineHeaders)]);
      for (let i = 0; i < REQUESTS; i++) {
        c.push(await timed(consoleUrl, { cookie }));
        e.push(await timed(engineUrl, engineHeaders));
      }
      if (!name.includes("nothing")) all.push(...c);
      console.log(
        `${name.padEnd(36)} ${`${pct(c, 50).toFixed(1)} / ${pct(c, 95).toFixed(1)} ms`.padStart(26)} ${`${pct(e, 50).toFixed(1)} / ${pct(e, 95).toFixed(1)} ms`.padStart(28)}   ${(pct(c, 95) / pct(e, 95)).toFixed(1)}×`,
      );
    }
    console.log(`console route, first + deep + filtered pages: p95 ${pct(all, 95).toFixed(1)} ms (aim < 100 ms); a filter that matches nothing walks the whole filtered range (shown above)`);
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(0);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
