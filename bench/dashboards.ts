// npm run bench:dashboards — the migration dashboard's data route at scale: 10 million per-study records
// (BENCH_STUDIES) finished over a year of hours, three sources, five modalities, twenty study years. It measures
// the route as the console calls it (full answer, and the live page's since-poll) beside the same aggregation
// computed from the raw study rows in the same run, and the forecast's 1,000 runs over that year of hours.
import { randomBytes } from "node:crypto";
import path from "node:path";
import postgres from "postgres";
import { forecastFor } from "../lib/migrations/dashboard-model";
import type { MigrationDashboard } from "../engine/api/contract";
import { startTestEngine } from "../test/engine";
import { benchDatabases } from "./lib/databases";

const STUDIES = Number(process.env.BENCH_STUDIES ?? 10_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const HOUR = 3_600_000;

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function time<T>(rounds: number, fn: () => Promise<T>) {
  const times: number[] = [];
  let last!: T;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    last = await fn();
    times.push(performance.now() - t0);
  }
  return { p95: p95(times), last };
}

async function main() {
  const dbs = await benchDatabases();
  const token = randomBytes(24).toString("hex");
  const engine = await startTestEngine(dbs.engineUrl, { token, blobDir: path.join(dbs.dir, "blobs") });
  const sql = postgres(dbs.engineUrl, { max: 4, onnotice: () => {} });
  try {
    const id = "00000000-0000-4000-8000-00000000be9c";
    const plan = {
      name: "bench",
      sources: ["north", "south", "east"].map((s) => ({ kind: "filesystem", id: s, path: "/nonexistent" })),
      target: { kind: "stow-rs", url: "http://127.0.0.1:1/dicom-web" },
      filters: { studyDateFrom: "2000-01-01", studyDateTo: "2019-12-31", modalities: [] },
      priority: 50,
      concurrency: 2,
      bandwidth: {},
      transforms: [],
    };
    await sql`insert into migrations (id, tenant_slug, plan, status) values (${id}, 'bench', ${sql.json(plan)}, 'running')`;
    await sql`insert into engine_events (tenant_slug, type, payload, created_at) values ('bench', 'migration.started', ${sql.json({ migrationId: id })}, now() - interval '366 days')`;

    // 80 % finished over the past year (1 % of them quarantined), the rest pending; the triggers keep the roll-ups.
    const t0 = performance.now();
    const chunk = 1_000_000;
    for (let from = 0; from < STUDIES; from += chunk) {
      const to = Math.min(STUDIES, from + chunk) - 1;
      await sql`
        insert into migration_studies (migration_id, source_id, study_instance_uid, study_date, modalities, instances, status, quarantine_category, finished_at)
        select ${id}::uuid, (array['north','south','east'])[1 + i % 3], '1.2.826.0.1.' || i, (2000 + i % 20)::text || '0615', array[(array['CT','MR','US','CR','MG'])[1 + i % 5]], 1 + i % 300,
          (case when i % 5 = 4 then 'pending' when i % 100 = 7 then 'quarantined' else 'migrated' end)::migration_study_status,
          case when i % 100 = 7 then (array['hash_mismatch','malformed_header','character_set'])[1 + i % 3] end,
          case when i % 5 = 4 then null else now() - ((i::float / ${STUDIES}) * interval '365 days') end
        from generate_series(${from}::bigint, ${to}::bigint) i`;
      process.stdout.write(`\r  ${to + 1} study rows`);
    }
    // Bytes per hour (the instance rows' trigger adds them as studies are verified; here in one go).
    await sql`update migration_hourly set bytes = migrated::bigint * 52000000 where migration_id = ${id}`;
    await sql`update migration_daily set bytes = migrated::bigint * 52000000 where migration_id = ${id}`;
    // At rest, as a months-long migration's tables are: vacuumed and analysed (autovacuum would otherwise run
    // during the measurements after loading millions of rows).
    await sql`vacuum analyze migration_studies`;
    await sql`vacuum analyze migration_hourly`;
    await sql`vacuum analyze migration_totals`;
    await sql`vacuum analyze migration_daily`;
    console.log(`\n  loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const buckets = Number((await sql`select count(*)::int as n from migration_hourly where migration_id = ${id}`)[0]!.n);

    const get = (q = "") => fetch(`${engine.url}/v1/tenants/bench/migrations/${id}/dashboard${q}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<MigrationDashboard>);
    await get(); // warm: the first answer also compiles the route's code paths
    const full = await time(ROUNDS, () => get());
    // The live page's poll: only what changed since its last answer (a few studies finish between polls).
    const pollTimes: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const asOf = (await get(`?since=${encodeURIComponent(new Date().toISOString())}`)).asOf;
      await sql`update migration_studies set status = 'migrated', finished_at = now() where migration_id = ${id} and study_instance_uid in (select study_instance_uid from migration_studies where migration_id = ${id} and status = 'pending' limit 3)`;
      const t1 = performance.now();
      await get(`?since=${encodeURIComponent(asOf)}`);
      pollTimes.push(performance.now() - t1);
    }
    // Baseline: the same figures from the raw rows (hourly by source, totals by source, modality, year, status).
    const raw = await time(Math.min(ROUNDS, 5), () =>
      Promise.all([
        sql`select date_trunc('hour', finished_at, 'UTC') as bucket, source_id, count(*) filter (where status = 'migrated')::int, count(*) filter (where status = 'quarantined')::int
            from migration_studies where migration_id = ${id} and status in ('migrated', 'quarantined') group by 1, 2 order by 1, 2`,
        sql`select source_id, coalesce(modalities[1], ''), coalesce(substr(study_date, 1, 4), ''), status, count(*)::int from migration_studies where migration_id = ${id} group by 1, 2, 3, 4`,
      ]),
    );

    const d = full.last;
    const now = Date.now();
    const forecast = await time(ROUNDS, async () => forecastFor(d, now, { runs: 1000 }));
    console.log(`dashboard benchmark: ${STUDIES.toLocaleString("en")} study records, ${buckets.toLocaleString("en")} hourly buckets over a year (${d.hourly.length.toLocaleString("en")} hour×source rows in the answer)`);
    console.log(`  dashboard route, full answer        p95 ${ms(full.p95)}   (aim < 150 ms)`);
    console.log(`  dashboard route, since-poll         p95 ${ms(p95(pollTimes))}`);
    console.log(`  baseline: same aggregation from raw rows  p95 ${ms(raw.p95)}   (${(raw.p95 / full.p95).toFixed(0)}× the roll-up route)`);
    console.log(`  forecast, 1,000 runs over ${forecast.last.samples.toLocaleString("en")} worked hours   p95 ${ms(forecast.p95)}   (aim < 200 ms)`);
  } finally {
    await sql.end();
    await engine.close();
    await dbs.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
