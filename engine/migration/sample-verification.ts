// The closeout's random-sample re-verification: N recorded instances picked by a seed (kept, so anyone can pick the
// same ones again from the exported report), retrieved from the target now and hashed; each is match, mismatch or
// missing. Kept as a migration.sample_verified event, so the tenant's audit chain holds the seed and every result.
import { and, desc, eq, sql } from "drizzle-orm";
import { randomBytes } from "node:crypto";
import type { MigrationPlan, SampleVerification } from "../api/contract";
import type { EngineDb } from "../store/db";
import { engineEvents } from "../store/schema";
import { retrieveFromTarget } from "./endpoints";
import type { MigrationRuntime } from "./pipeline";
import { verificationReportDocument } from "./progress";
import { pick, reverify } from "./reverify";

type M = { id: string; tenantSlug: string; plan: unknown; planVersion?: number | null };

export async function runSampleVerification(db: EngineDb, m: M, req: { sample: number; seed?: string }, runtime: MigrationRuntime): Promise<SampleVerification> {
  const seed = req.seed ?? randomBytes(8).toString("hex");
  const report = await verificationReportDocument(db, m);
  const planned = pick(report, { n: req.sample, seed });
  const target = (m.plan as MigrationPlan).target;
  const results = await reverify(planned, (studyUid, dir) => retrieveFromTarget(target, studyUid, dir, runtime.moveDestination));
  const count = (r: string) => results.filter((x) => x.result === r).length;
  const outcome: SampleVerification = {
    migrationId: m.id,
    verifiedAt: new Date().toISOString(),
    seed,
    requested: req.sample,
    recorded: report.instances.length,
    reportSha256: report.reportSha256,
    checked: results.length,
    matched: count("match"),
    mismatched: count("mismatch"),
    missing: count("missing"),
    results: results.map((r) => ({ studyInstanceUid: r.studyInstanceUid, targetSopInstanceUid: r.targetSopInstanceUid, expectedSha256: r.expectedSha256, foundSha256: r.foundSha256, result: r.result })),
  };
  await db.insert(engineEvents).values({ tenantSlug: m.tenantSlug, type: "migration.sample_verified", payload: outcome });
  return outcome;
}

export async function lastSampleVerification(db: EngineDb, m: { id: string; tenantSlug: string }) {
  const [row] = await db
    .select({ payload: engineEvents.payload })
    .from(engineEvents)
    .where(and(eq(engineEvents.tenantSlug, m.tenantSlug), eq(engineEvents.type, "migration.sample_verified"), sql`${engineEvents.payload}->>'migrationId' = ${m.id}`))
    .orderBy(desc(engineEvents.id))
    .limit(1);
  return (row?.payload as SampleVerification | undefined) ?? null;
}
