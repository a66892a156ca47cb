// Changing a running migration: windows, caps, priority and concurrency are written into its plan (the runners
// read the plan before every study, so a change takes effect without a restart), and resume after a pause. Each
// change lands in the event feed with what it was before, and so in the tenant's audit chain. These are operational
// controls an engineer turns while the migration runs, not a new plan version: what is migrated and how it is
// transformed changes only through an approved version (plan-versions.ts), whose approval puts its plan in force
// as written.
import { and, eq } from "drizzle-orm";
import type { MigrationPlan, MigrationSettings } from "../api/contract";
import type { EngineDb } from "../store/db";
import { engineEvents, migrations } from "../store/schema";

/** The plan with the settings applied (null removes windows or a cap). */
export function applySettings(plan: MigrationPlan, s: MigrationSettings): MigrationPlan {
  const next: MigrationPlan = { ...plan, bandwidth: { ...plan.bandwidth } };
  if (s.windows === null) delete next.windows;
  else if (s.windows) next.windows = s.windows;
  for (const key of ["overallBytesPerSecond", "perSourceBytesPerSecond"] as const) {
    const v = s.bandwidth?.[key];
    if (v === null) delete next.bandwidth[key];
    else if (v !== undefined) next.bandwidth[key] = v;
  }
  if (s.priority !== undefined) next.priority = s.priority;
  if (s.concurrency !== undefined) next.concurrency = s.concurrency;
  return next;
}

const settingsOf = (p: MigrationPlan) => ({ windows: p.windows ?? null, bandwidth: p.bandwidth, priority: p.priority, concurrency: p.concurrency });

export async function updateSettings(db: EngineDb, slug: string, id: string, s: MigrationSettings) {
  return db.transaction(async (tx) => {
    const [m] = await tx.select().from(migrations).where(and(eq(migrations.id, id), eq(migrations.tenantSlug, slug))).for("update");
    if (!m) return null;
    const before = m.plan as MigrationPlan;
    const after = applySettings(before, s);
    await tx.update(migrations).set({ plan: after, updatedAt: new Date() }).where(eq(migrations.id, id));
    await tx.insert(engineEvents).values({
      tenantSlug: slug,
      type: "migration.settings_changed",
      // An operational control on top of the approved version in force, not a new version (plan-versions.ts).
      payload: { migrationId: id, planVersion: m.planVersion, before: settingsOf(before), after: settingsOf(after), ...(s.changedBy ? { changedBy: s.changedBy } : {}) },
    });
    return after;
  });
}

/** Paused → running; false when the migration is not paused. The caller kicks a runner. */
export async function resumeMigration(db: EngineDb, slug: string, id: string) {
  return db.transaction(async (tx) => {
    const resumed = await tx
      .update(migrations)
      .set({ status: "running", updatedAt: new Date() })
      .where(and(eq(migrations.id, id), eq(migrations.tenantSlug, slug), eq(migrations.status, "paused")))
      .returning({ id: migrations.id });
    if (!resumed.length) return false;
    await tx.insert(engineEvents).values({ tenantSlug: slug, type: "migration.resumed", payload: { migrationId: id } });
    return true;
  });
}
