import "server-only";
import { createHash } from "node:crypto";
import { z } from "zod";
import { ConnectionTestRequest, MigrationPlan, MigrationWindows } from "@/engine/api/contract";
import { canonicalJson } from "@/engine/migration/study-record";
import { appendAudit } from "../audit/append";
import type { TenantContext } from "../context";
import { withTenant } from "../db";
import { EngineError, engineClientFromEnv } from "../engine/client";
import { InputError, NotFoundError } from "../errors";

// Probing an archive or retrieving a sample study takes longer than the engine's other answers.
const engine = (timeoutMs = 60_000) => engineClientFromEnv(timeoutMs);

const MigrationId = z.uuid("not a migration id");

// ---- the form's draft: what a person typed, as text, turned into a plan the engine contract then validates ----------

const text = z.string().default("");
const DraftSource = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("dicom"), id: text, aeTitle: text, host: text, port: text, callingAeTitle: text, retrieve: text, findLimit: text }),
  z.object({ kind: z.literal("filesystem"), id: text, path: text }),
]);
const DraftTarget = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("dicom"), aeTitle: text, host: text, port: text, callingAeTitle: text, retrieve: text }),
  z.object({ kind: z.literal("stow-rs"), url: text }),
]);
const DraftRule = z.object({ op: z.enum(["set", "remove", "map", "remove-private"]), tag: text, value: text, values: text, groups: text, creators: text, sources: text, modalities: text });
export const PlanDraft = z.object({
  name: text,
  sources: z.array(DraftSource).default([]),
  target: DraftTarget,
  filters: z.object({ studyDateFrom: text, studyDateTo: text, modalities: text }),
  windows: MigrationWindows.nullable().default(null),
  overallCap: text,
  perSourceCap: text,
  priority: text,
  concurrency: text,
  rules: z.array(DraftRule).default([]),
  anonymize: z.boolean().default(false),
});
export type PlanDraft = z.infer<typeof PlanDraft>;

const list = (s: string) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
const MB = 1_000_000;

type Add = (key: string, message: string) => void;
const int = (add: Add, k: string, s: string, what: string, dflt?: number) => {
  if (s.trim() === "" && dflt !== undefined) return dflt;
  if (!/^\d+$/.test(s.trim())) return add(k, `${what} is a whole number`), 0;
  return Number(s);
};
const mbps = (add: Add, k: string, s: string) => {
  if (s.trim() === "") return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) return add(k, "a cap is a positive number of MB/s, or empty for none"), undefined;
  return Math.round(n * MB);
};
const retrieve = (s: string) => (s === "" ? "c-get" : s);
const calling = (s: string) => (s.trim() === "" ? undefined : s);

const sourceFromDraft = (s: z.infer<typeof DraftSource>, i: number, add: Add) =>
  s.kind === "dicom"
    ? { kind: "dicom", id: s.id, aeTitle: s.aeTitle, host: s.host, port: int(add, `sources.${i}.port`, s.port, "the port"), callingAeTitle: calling(s.callingAeTitle), retrieve: retrieve(s.retrieve), findLimit: int(add, `sources.${i}.findLimit`, s.findLimit, "the C-FIND limit", 0) }
    : { kind: "filesystem", id: s.id, path: s.path };
const targetFromDraft = (t: z.infer<typeof DraftTarget>, add: Add) =>
  t.kind === "dicom"
    ? { kind: "dicom", aeTitle: t.aeTitle, host: t.host, port: int(add, "target.port", t.port, "the port"), callingAeTitle: calling(t.callingAeTitle), retrieve: retrieve(t.retrieve) }
    : { kind: "stow-rs", url: t.url };

/**
 * The draft as a plan, and the field messages of everything wrong with it, keyed like the form's fields
 * (`sources.0.port`, `overallCap`, `rules.2.values`, `anonymize`). Numbers are read here; the contract judges the rest.
 */
export function planFromDraft(input: unknown): { plan: MigrationPlan; fields: null } | { plan: null; fields: Record<string, string[]> } {
  const parsed = PlanDraft.safeParse(input);
  if (!parsed.success) return { plan: null, fields: issuesToFields(parsed.error.issues) };
  const d = parsed.data;
  const fields: Record<string, string[]> = {};
  const add: Add = (k, m) => void (fields[k] ??= []).push(m);
  const rules = d.rules.map((r, i) => {
    const scope = { ...(list(r.sources).length ? { sources: list(r.sources) } : {}), ...(list(r.modalities).length ? { modalities: list(r.modalities).map((m) => m.toUpperCase()) } : {}) };
    if (r.op === "set") return { op: "set", tag: r.tag, value: r.value, ...scope };
    if (r.op === "remove") return { op: "remove", tag: r.tag, ...scope };
    if (r.op === "map") {
      const values: Record<string, string> = {};
      for (const line of r.values.split("\n").map((l) => l.trim()).filter(Boolean)) {
        const at = line.indexOf("=");
        if (at < 0) add(`rules.${i}.values`, `"${line}" is not FROM=TO`);
        else values[line.slice(0, at).trim()] = line.slice(at + 1).trim();
      }
      if (!Object.keys(values).length) add(`rules.${i}.values`, "give at least one FROM=TO line");
      return { op: "map", tag: r.tag, values, ...scope };
    }
    const groups = list(r.groups).map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : (add(`rules.${i}.groups`, `"${g}" is not a hex group, e.g. 0009`), 0)));
    const creators = r.creators.split("\n").map((l) => l.trim()).filter(Boolean);
    return { op: "remove-private", ...(groups.length ? { groups } : {}), ...(creators.length ? { creators } : {}), ...scope };
  });
  const candidate = {
    name: d.name,
    sources: d.sources.map((s, i) => sourceFromDraft(s, i, add)),
    target: targetFromDraft(d.target, add),
    filters: { studyDateFrom: d.filters.studyDateFrom, studyDateTo: d.filters.studyDateTo, modalities: list(d.filters.modalities).map((m) => m.toUpperCase()) },
    priority: int(add, "priority", d.priority, "priority", 50),
    concurrency: int(add, "concurrency", d.concurrency, "workers", 2),
    bandwidth: { overallBytesPerSecond: mbps(add, "overallCap", d.overallCap), perSourceBytesPerSecond: mbps(add, "perSourceCap", d.perSourceCap) },
    ...(d.windows ? { windows: d.windows } : {}),
    transforms: [...rules, ...(d.anonymize ? [{ op: "anonymize", profile: "basic" }] : [])],
  };
  const plan = MigrationPlan.safeParse(JSON.parse(JSON.stringify(candidate)));
  // A field this reading already refused (e.g. a port that is not a number) gets no second message from the contract.
  const refused = new Set(Object.keys(fields));
  if (!plan.success) for (const [k, v] of Object.entries(issuesToFields(plan.error.issues, d.rules.length))) if (!refused.has(k)) for (const m of v) add(k, m);
  if (Object.keys(fields).length || !plan.success) return { plan: null, fields };
  return { plan: plan.data, fields: null };
}

/** Contract issue paths as the form's field keys: `transforms.N` is rule N, or the anonymization profile after the rules. */
export function toFieldKey(key: string, ruleCount: number) {
  const m = /^transforms\.(\d+)(.*)$/.exec(key);
  if (!m) return key.replace(/^bandwidth\.overallBytesPerSecond$/, "overallCap").replace(/^bandwidth\.perSourceBytesPerSecond$/, "perSourceCap");
  return Number(m[1]) >= ruleCount ? "anonymize" : `rules.${m[1]}${m[2]}`;
}

function issuesToFields(issues: z.core.$ZodIssue[], ruleCount = Infinity) {
  const fields: Record<string, string[]> = {};
  for (const i of issues) (fields[toFieldKey(i.path.map(String).join(".") || "form", ruleCount)] ??= []).push(i.message);
  return fields;
}

const planOrRefuse = (draft: unknown) => {
  const r = planFromDraft(draft);
  if (!r.plan) throw new InputError("Not saved: check the fields marked below.", r.fields);
  return r.plan;
};

/** The engine's field messages keyed like the form (its keys are the plan's). */
const engineRefusal = (e: unknown, draft: PlanDraft | null) => {
  if (e instanceof EngineError && e.fields) {
    const n = draft?.rules.length ?? Infinity;
    throw new EngineError(e.status, e.code, e.message, Object.fromEntries(Object.entries(e.fields).map(([k, v]) => [toFieldKey(k, n), v])));
  }
  throw e;
};

/** The SHA-256 of the plan as the engine holds it (canonical JSON): what the audit entry names. */
export const planHash = (plan: MigrationPlan) => createHash("sha256").update(canonicalJson(plan)).digest("hex");

const audit = (ctx: TenantContext, action: string, id: string, before: unknown, after: unknown) =>
  withTenant(ctx, (tx) => appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, { action, target: `migration:${id}`, before, after }));

// ---- verbs ------------------------------------------------------------------------------------------------------

/**
 * Saves a new plan. The engine accepts it only when every DICOM peer answers a C-ECHO; a refusal loses nothing
 * (the form keeps what was typed and shows the engine's reason next to the endpoint).
 */
export async function createPlan(ctx: TenantContext, draft: unknown) {
  const plan = planOrRefuse(draft);
  const m = await engine()
    .createMigration(ctx.tenantSlug, plan, { userId: ctx.actor.userId, name: ctx.actor.name })
    .catch((e) => engineRefusal(e, PlanDraft.parse(draft)));
  await audit(ctx, "migrations.create", m.id, null, { name: m.plan.name, planSha256: planHash(m.plan), plan: m.plan });
  return m;
}

/** A new version of an existing plan; the engine keeps the versions and their approval. */
export async function savePlanVersion(ctx: TenantContext, id: string, draft: unknown) {
  const plan = planOrRefuse(draft);
  const client = engine();
  const before = await client.getMigration(ctx.tenantSlug, MigrationId.parse(id));
  if (!before) throw new NotFoundError("No such migration in this tenant.");
  const after = await client.updateMigrationPlan(ctx.tenantSlug, before.id, { plan, changedBy: { userId: ctx.actor.userId, name: ctx.actor.name } }).catch((e) => engineRefusal(e, PlanDraft.parse(draft)));
  await audit(ctx, "migrations.plan-version", before.id, { version: before.version, planSha256: planHash(before.plan) }, { version: after.version, planSha256: planHash(plan), plan });
  return after;
}

/** Tests one endpoint of the draft (saved or not): `sources.N` or `target`; only that endpoint's fields must be right. */
export async function testConnections(ctx: Pick<TenantContext, "tenantSlug">, draft: unknown, which: string) {
  const d = PlanDraft.parse(draft);
  const n = /^sources\.(\d+)$/.exec(which);
  const fields: Record<string, string[]> = {};
  const add: Add = (k, m) => void (fields[k] ??= []).push(m);
  const prefix = n ? `sources.${n[1]}` : "target";
  let request: unknown;
  if (n) {
    const s = d.sources[Number(n[1])];
    if (!s) throw new InputError("No such source in the form.");
    request = { role: "source", endpoint: sourceFromDraft(s, Number(n[1]), add) };
  } else request = { role: "target", endpoint: targetFromDraft(d.target, add) };
  const parsed = ConnectionTestRequest.safeParse(JSON.parse(JSON.stringify(request)));
  const refused = new Set(Object.keys(fields));
  if (!parsed.success)
    for (const i of parsed.error.issues) {
      const key = [prefix, ...i.path.slice(1).map(String)].join(".");
      if (i.path[0] === "endpoint" && !refused.has(key)) add(key, i.message);
    }
  if (Object.keys(fields).length || !parsed.success) throw new InputError("Fix this endpoint's fields first.", fields);
  return engine().testConnection(ctx.tenantSlug, parsed.data);
}

/** The draft's rules applied to a sample study from one of its sources. */
export async function previewTransforms(ctx: Pick<TenantContext, "tenantSlug">, draft: unknown, sourceIndex: number) {
  const plan = planOrRefuse(draft);
  const source = plan.sources[sourceIndex];
  if (!source) throw new InputError("Choose one of the plan's sources to preview.");
  return engine(120_000).previewTransforms(ctx.tenantSlug, { plan, sourceId: source.id });
}

export async function discover(ctx: TenantContext, id: string) {
  const m = await engine().discoverMigration(ctx.tenantSlug, MigrationId.parse(id));
  await audit(ctx, "migrations.discover", m.id, null, { status: m.status, planSha256: planHash(m.plan) });
  return m;
}

/** Starts a discovered migration; the engine refuses a plan version nobody approved, and its message is shown. */
export async function start(ctx: TenantContext, id: string) {
  const client = engine();
  const before = await client.getMigration(ctx.tenantSlug, MigrationId.parse(id));
  if (!before) throw new NotFoundError("No such migration in this tenant.");
  const m = await client.startMigration(ctx.tenantSlug, before.id);
  await audit(ctx, "migrations.start", m.id, { status: before.status }, { status: m.status, planSha256: planHash(m.plan) });
  return m;
}

export async function inventory(ctx: Pick<TenantContext, "tenantSlug">, id: string) {
  return engine().migrationInventory(ctx.tenantSlug, MigrationId.parse(id));
}
