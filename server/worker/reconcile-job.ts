import "server-only";
import type { PgBoss } from "pg-boss";
import { z } from "zod";
import type { EngineClient } from "../engine/client";
import { detectDrift, reconcileTenantConfig, tenantsAwaitingApply } from "../tenant-config/reconcile";

export const RECONCILE_QUEUE = "tenant-config-reconcile";
const JobData = z.object({ tenantId: z.uuid() });

/**
 * Reconcile desired tenant config into the engine. One job per tenant at a time ("stately" + singletonKey);
 * a failing push (engine down) is retried with exponential backoff capped at a minute, and the sweep keeps
 * re-enqueueing anything still pending, so the engine converges whenever it comes back.
 */
export async function registerReconcile(boss: PgBoss, engine: EngineClient, log: (m: string) => void) {
  await boss.createQueue(RECONCILE_QUEUE, {
    policy: "stately",
    retryLimit: 100,
    retryDelay: 1,
    retryBackoff: true,
    retryDelayMax: 60,
    expireInSeconds: 60,
  });
  await boss.work(RECONCILE_QUEUE, { pollingIntervalSeconds: 1 }, async (jobs) => {
    for (const job of jobs) {
      const { tenantId } = JobData.parse(job.data);
      try {
        const r = await reconcileTenantConfig(engine, tenantId);
        if (r.status === "applied") log(`applied config version ${r.version} for tenant ${tenantId}`);
      } catch (e) {
        log(`reconcile of tenant ${tenantId} failed, will retry: ${e instanceof Error ? e.message : e}`);
        throw e;
      }
    }
  });
}

export async function enqueuePending(boss: PgBoss) {
  for (const tenantId of await tenantsAwaitingApply()) {
    await boss.send(RECONCILE_QUEUE, { tenantId }, { singletonKey: tenantId });
  }
}

export async function checkDrift(boss: PgBoss, engine: EngineClient, log: (m: string) => void) {
  const drifted = await detectDrift(engine);
  if (drifted.length) log(`engine config drifted for ${drifted.length} tenant(s); re-applying`);
  await enqueuePending(boss);
}
