// The console worker: background jobs that must survive restarts and share work across processes (pg-boss).
// Run with `tsx --conditions=react-server server/worker/main.ts` (server modules import "server-only").
import "server-only";
import { PgBoss } from "pg-boss";
import { z } from "zod";
import { assertRlsApplies, closeDb } from "../db";
import { auditSigner, checkpointAllChains } from "../audit/checkpoints";
import { drainEngineEvents } from "../audit/engine-events";
import { closeDueGrants } from "../break-glass/service";
import { auditEnv, databaseEnv } from "../env";
import { engineClientFromEnv } from "../engine/client";
import { announceMigrationNotices } from "../migrations/notices";
import { announceLicenceNotices } from "../licence/notices";
import { generateScheduledReports } from "../migrations/reports";
import { checkDrift, enqueuePending, registerReconcile } from "./reconcile-job";
import { enqueueDeliveries, registerWebhookDelivery } from "./webhook-job";

const WEEKLY_REPORTS_QUEUE = "migration-reports-weekly";

const Options = z.object({
  WORKER_SWEEP_SECONDS: z.coerce.number().positive().default(3),
  WORKER_DRIFT_CHECK_SECONDS: z.coerce.number().positive().default(60),
  WORKER_ENGINE_EVENTS_SECONDS: z.coerce.number().positive().default(1),
  WORKER_ENGINE_EVENTS_BATCH: z.coerce.number().int().min(1).max(1000).default(500),
  WORKER_MIGRATION_WATCH_SECONDS: z.coerce.number().positive().default(10),
  /** when the weekly stakeholder reports are generated (cron, UTC): Mondays 06:00 */
  WORKER_WEEKLY_REPORTS_CRON: z.string().min(9).default("0 6 * * 1"),
  /** the embedded demo only: the weekly reports run once this long after start, so a newcomer sees one */
  WORKER_DEMO_REPORT_AFTER_SECONDS: z.coerce.number().positive().optional(),
});

export async function startWorker(env: NodeJS.ProcessEnv = process.env) {
  const log = (m: string) => console.log(`[worker] ${m}`);
  const opts = Options.parse(env);
  const { DATABASE_URL } = databaseEnv();
  const { AUDIT_CHECKPOINT_MINUTES } = auditEnv();
  auditSigner(); // a bad key stops the worker at start, naming the variable
  const engine = engineClientFromEnv();
  await assertRlsApplies();

  const boss = new PgBoss({ connectionString: DATABASE_URL, schema: "pgboss", createSchema: false });
  boss.on("error", (e) => log(`queue error: ${e.message}`));
  await boss.start();
  await registerReconcile(boss, engine, log);
  await registerWebhookDelivery(boss, log);
  // The weekly reports: one pg-boss schedule (shared by every worker process, run once per tick by the queue),
  // a report per migration that is running, paused or finished.
  await boss.createQueue(WEEKLY_REPORTS_QUEUE, { policy: "singleton", expireInSeconds: 3600 });
  await boss.schedule(WEEKLY_REPORTS_QUEUE, opts.WORKER_WEEKLY_REPORTS_CRON, {}, { tz: "UTC" });
  await boss.work(WEEKLY_REPORTS_QUEUE, async () => generateScheduledReports(engine, log));
  if (opts.WORKER_DEMO_REPORT_AFTER_SECONDS) setTimeout(() => void boss.send(WEEKLY_REPORTS_QUEUE, {}), opts.WORKER_DEMO_REPORT_AFTER_SECONDS * 1000).unref();

  // Periodic sweeps run in every worker process; the queue's singleton keys dedupe what they enqueue, the event
  // cursor's row lock and the checkpoints' unique (chain, seq) keep concurrent workers from doing anything twice.
  // A step still running when its timer fires again is not started twice.
  const guard = (name: string, fn: () => Promise<unknown>) => {
    let running = false;
    return async () => {
      if (running) return;
      running = true;
      try {
        await fn();
      } catch (e) {
        log(`${name} failed: ${e instanceof Error ? e.message : e}`);
      } finally {
        running = false;
      }
    };
  };
  const sweep = guard("sweep", () => enqueuePending(boss));
  const drift = guard("drift check", () => checkDrift(boss, engine, log));
  const events = guard("engine event ingest", () => drainEngineEvents(engine, opts.WORKER_ENGINE_EVENTS_BATCH));
  const checkpoints = guard("audit checkpoints", async () => {
    const n = await checkpointAllChains();
    if (n) log(`signed ${n} audit checkpoint(s)`);
  });
  const grants = guard("break-glass sweep", async () => {
    const n = await closeDueGrants();
    if (n) log(`closed ${n} break-glass grant(s) (expired or lapsed)`);
  });
  const deliveries = guard("webhook sweep", () => enqueueDeliveries(boss));
  const notices = guard("migration notices", async () => {
    const n = await announceMigrationNotices(engine);
    if (n) log(`recorded ${n} webhook deliveries for migration milestones and anomalies`);
  });
  const licence = guard("licence notices", async () => {
    const n = await announceLicenceNotices(engine);
    if (n) log(`recorded ${n} webhook deliveries for the licence's expiry`);
  });
  await sweep();
  const timers = [
    setInterval(licence, opts.WORKER_MIGRATION_WATCH_SECONDS * 1000),
    setInterval(deliveries, opts.WORKER_SWEEP_SECONDS * 1000),
    setInterval(notices, opts.WORKER_MIGRATION_WATCH_SECONDS * 1000),
    setInterval(sweep, opts.WORKER_SWEEP_SECONDS * 1000),
    setInterval(drift, opts.WORKER_DRIFT_CHECK_SECONDS * 1000),
    setInterval(events, opts.WORKER_ENGINE_EVENTS_SECONDS * 1000),
    setInterval(checkpoints, AUDIT_CHECKPOINT_MINUTES * 60_000),
    setInterval(grants, opts.WORKER_SWEEP_SECONDS * 1000),
  ];
  log("ready");

  return async function stop() {
    timers.forEach(clearInterval);
    await boss.stop({ graceful: true, timeout: 5000 });
    await closeDb();
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  startWorker()
    .then((stop) => {
      for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void stop().then(() => process.exit(0)));
    })
    .catch((e) => {
      console.error(`[worker] failed to start: ${e instanceof Error ? e.message : e}`);
      process.exit(1);
    });
}
