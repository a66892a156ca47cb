// Several engine processes (on one machine or many) share every running migration. Each process looks for running
// migrations every few seconds and runs its own runner for each (plan.concurrency workers per process); the
// studies themselves are claimed in the engine database (FOR UPDATE SKIP LOCKED) with a lease the worker renews,
// so no two workers ever hold one study, and a study whose worker died is taken over once its lease lapses.
//
// The migration_studies table is the work queue: the study rows already carry the state that pause, windows,
// repair and reconciliation need, so a second queue (pg-boss jobs per study) would have to be kept in step with it.
import { and, eq, like } from "drizzle-orm";
import type { EngineDb } from "../store/db";
import { migrations, migrationStudies } from "../store/schema";
import { checkpointTick } from "./checkpoints";
import { runMigration, type MigrationRuntime } from "./pipeline";
import { pauseMigration } from "./review";

const POLL_MS = 3000;

export class MigrationRunners {
  private readonly active = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly db: EngineDb,
    private readonly log: (s: string) => void,
    private readonly runtime: MigrationRuntime & { instanceId: string },
    /** the engine's clock and the hourly checkpoint's interval (tests drive both) */
    private readonly checkpoints: { now: () => Date; intervalMs?: number } = { now: () => new Date() },
    /** why the licence stops migration work now (engine/licence/gate.ts), or null: running migrations are paused */
    private readonly unlicensed: () => Promise<string | null> = async () => null,
  ) {}

  /**
   * After a crash or restart: this instance's own in-flight studies go back to pending at once (nothing was
   * recorded for them, and the pipeline is idempotent: resending what the target already holds, then verifying,
   * records the study once); other instances' studies are theirs until their leases lapse. Then every running
   * migration gets a runner here.
   */
  async start() {
    await this.db
      .update(migrationStudies)
      .set({ status: "pending", worker: null, leaseUntil: null })
      .where(and(eq(migrationStudies.status, "in_flight"), like(migrationStudies.worker, `${this.runtime.instanceId}/%`)));
    await this.poll();
    this.timer = setInterval(() => void this.poll().catch((e) => this.log(`migration runners: ${e instanceof Error ? e.message : e}`)), POLL_MS);
  }

  /** Runs a runner for the migration here unless one is already running. */
  kick(id: string) {
    if (this.stopping || this.active.has(id)) return;
    const run = runMigration(this.db, id, this.log, { ...this.runtime, stopped: () => this.stopping })
      .catch((e) => this.log(`migration ${id} stopped: ${e instanceof Error ? e.message : e}`))
      .finally(() => this.active.delete(id));
    this.active.set(id, run);
  }

  private async poll() {
    const running = await this.db.select({ id: migrations.id, tenantSlug: migrations.tenantSlug }).from(migrations).where(eq(migrations.status, "running"));
    // Paused, not failed: studies in flight finish and are recorded, and a renewed licence resumes from there.
    const refused = running.length ? await this.unlicensed() : null;
    if (refused) {
      for (const m of running) if (await pauseMigration(this.db, m.tenantSlug, m.id, refused)) this.log(`migration ${m.id} paused: ${refused}`);
      return;
    }
    for (const { id } of running) {
      this.kick(id);
      // Checkpoints no request takes (a window closing, the hour passing): whichever engine process polls first.
      await checkpointTick(this.db, id, this.checkpoints.now(), this.checkpoints.intervalMs).catch((e) => this.log(`migration ${id} checkpoint: ${e instanceof Error ? e.message : e}`));
    }
  }

  /** Stops taking studies; the ones in flight finish (or their leases lapse if the process is killed). */
  async stop() {
    this.stopping = true;
    clearInterval(this.timer);
    await Promise.all(this.active.values());
  }
}
