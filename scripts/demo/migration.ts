// The demo migration (embedded mode only): northside's legacy archive (archive.ts) to an offline hand-off file-set,
// created, discovered and started through the engine's admin API like any migration. It runs for real under a
// bandwidth cap, so the burn-down fills hour by hour from what actually moved (no figures are made up), and only
// within a daily window, so the dashboard shows the window at work.
import path from "node:path";
import { makeDemoArchive } from "./archive";

export const DEMO_TENANT = "northside";
export const DEMO_MIGRATION_NAME = "Demo: legacy archive to offline hand-off";

type Api = (p: string, init?: { method?: string; body?: unknown }) => Promise<{ status: number; body: any }>;

const engineApi = (url: string, token: string): Api => async (p, init = {}) => {
  const res = await fetch(url + p, { method: init.method ?? "GET", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  return { status: res.status, body: await res.json().catch(() => null) };
};

/** Makes the archive (once) and the migration (once); a restarted stack finds both and leaves them running. */
export async function seedDemoMigration(opts: {
  engineUrl: string;
  token: string;
  importRoot: string;
  say: (s: string) => void;
  /** for tests: a smaller archive, and the run uncapped and unwindowed */
  studies?: number;
  unthrottled?: boolean;
}) {
  const api = engineApi(opts.engineUrl, opts.token);
  const archive = await makeDemoArchive(path.join(opts.importRoot, DEMO_TENANT, "legacy-archive"), opts.studies);
  const list = await api(`/v1/tenants/${DEMO_TENANT}/migrations`);
  if (list.status !== 200) throw new Error(`the engine did not list ${DEMO_TENANT}'s migrations: HTTP ${list.status}`);
  const existing = (list.body.migrations as { id: string; plan: { name: string } }[]).find((m) => m.plan.name === DEMO_MIGRATION_NAME);
  if (existing) return existing.id;
  const created = await api(`/v1/tenants/${DEMO_TENANT}/migrations`, {
    method: "POST",
    body: {
      name: DEMO_MIGRATION_NAME,
      sources: [{ kind: "filesystem", id: "legacy", path: "legacy-archive" }],
      target: { kind: "filesystem", path: "offline-handoff" },
      filters: { studyDateFrom: "2010-01-01", studyDateTo: "2030-12-31" },
      concurrency: 1,
      // About one CT study a minute: the run lasts hours, so hourly buckets (and the forecast band) come from real work.
      bandwidth: opts.unthrottled ? {} : { overallBytesPerSecond: 8 * 1024 },
      // Open 06:00–22:00 every day, closed overnight.
      ...(opts.unthrottled ? {} : { windows: { timeZone: "UTC", intervals: [{ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "06:00", end: "22:00" }] } }),
    },
  });
  if (created.status !== 201) throw new Error(`the demo migration was not accepted: ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  // Nothing runs from an unapproved plan. The demo seed approves version 1 itself and says so in the signer's
  // name: no person signed it, and the audit chain records exactly that.
  const approved = await api(`/v1/tenants/${DEMO_TENANT}/migrations/${id}/versions/1/approve`, {
    method: "POST",
    body: { signer: { userId: "demo-seed", name: "Demo seed (no person signed)", meaning: "approved for the demo", signatureId: "demo-seed", signedAt: new Date().toISOString() }, requireDifferentPerson: false },
  });
  if (approved.status !== 200) throw new Error(`the demo migration's plan was not approved: ${JSON.stringify(approved.body)}`);
  await api(`/v1/tenants/${DEMO_TENANT}/migrations/${id}/discover`, { method: "POST" });
  for (let i = 0; i < 120; i++) {
    const m = await api(`/v1/tenants/${DEMO_TENANT}/migrations/${id}`);
    if (m.body?.status === "ready") break;
    if (m.body?.status === "failed") throw new Error(`the demo migration's discovery failed: ${m.body.lastError}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const started = await api(`/v1/tenants/${DEMO_TENANT}/migrations/${id}/start`, { method: "POST" });
  if (started.status >= 300) throw new Error(`the demo migration did not start: ${JSON.stringify(started.body)}`);
  opts.say(`demo migration started: ${archive.studies} studies, ${archive.instances} instances, ${archive.faulty.length} deliberately faulty`);
  return id;
}
