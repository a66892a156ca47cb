// The clinical review half of the admin API: a tenant's quarantine queue across its migrations, each study's
// evidence (instance bytes for the viewer, parsed headers, what differs between the source and target copies) and
// signed decisions. The console authorizes people; the engine answers only to its bearer token.
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { MigrationRunners } from "../migration/runners";
import type { EngineDb } from "../store/db";
import { findEvidence, listEvidence, readEvidence, type EvidenceStore } from "../migration/evidence";
import { evidencePreview } from "../migration/evidence-preview";
import { diffElements, parseElements } from "../migration/header";
import { getTenantQuarantineItem, listTenantQuarantine, parseItemId } from "../migration/quarantine-queue";
import { decideStudy } from "../migration/review";
import { getMigration } from "../migration/plans";
import { ApiError, EvidenceDiff, EvidenceHeader, ItemDecision, QuarantineDetail, QuarantineItem, QuarantineItemId, QuarantinePage, QuarantineQuery } from "./contract";
import { errors, json, SlugParams } from "./route-helpers";

const ItemParams = SlugParams.extend({ itemId: QuarantineItemId });
const EvidenceParams = ItemParams.extend({ evidenceId: z.uuid("not an evidence id").meta({ param: { name: "evidenceId", in: "path" } }) });
const notFound = json(ApiError, "No such quarantined study (or evidence) in this tenant");
const base = "/v1/tenants/{slug}/quarantine";

const routes = {
  list: createRoute({
    method: "get",
    path: base,
    security: [{ bearer: [] }],
    request: { params: SlugParams, query: QuarantineQuery },
    responses: { 200: json(QuarantinePage, "Quarantined studies, oldest first, with open counts per category"), ...errors },
  }),
  detail: createRoute({
    method: "get",
    path: `${base}/{itemId}`,
    security: [{ bearer: [] }],
    request: { params: ItemParams },
    responses: { 200: json(QuarantineDetail, "The study and its evidence instances (source side in stack order, then the target's copy of a mismatch)"), ...errors, 404: notFound },
  }),
  bytes: createRoute({
    method: "get",
    path: `${base}/{itemId}/evidence/{evidenceId}`,
    security: [{ bearer: [] }],
    request: { params: EvidenceParams },
    responses: { 200: { description: "The instance's Part 10 bytes (application/dicom), decrypted" }, ...errors, 404: notFound },
  }),
  preview: createRoute({
    method: "get",
    path: `${base}/{itemId}/evidence/{evidenceId}/preview`,
    security: [{ bearer: [] }],
    request: { params: EvidenceParams },
    responses: {
      200: { description: "The instance's first frame as an 8-bit PNG (image/png), windowed with its first VOI window or min-max: shown while the viewer loads" },
      ...errors,
      404: notFound,
      422: json(ApiError, "DCMTK cannot render this instance (unsupported or corrupt pixel data): there is no preview, the viewer says why"),
    },
  }),
  header: createRoute({
    method: "get",
    path: `${base}/{itemId}/evidence/{evidenceId}/header`,
    security: [{ bearer: [] }],
    request: { params: EvidenceParams },
    responses: { 200: json(EvidenceHeader, "Every element (sequences flattened), with problems named; `error` says where a damaged file stopped parsing"), ...errors, 404: notFound },
  }),
  diff: createRoute({
    method: "get",
    path: `${base}/{itemId}/diff`,
    security: [{ bearer: [] }],
    request: { params: ItemParams },
    responses: { 200: json(EvidenceDiff, "For a hash mismatch: both hashes and the elements that differ between the source and target copies"), ...errors, 404: notFound },
  }),
  decide: createRoute({
    method: "post",
    path: `${base}/{itemId}/decision`,
    security: [{ bearer: [] }],
    request: { params: ItemParams, body: { content: { "application/json": { schema: ItemDecision } }, required: true } },
    responses: {
      200: json(QuarantineItem, "Recorded: skip excludes the study; repair re-runs it with the patch (a completed migration runs again); escalate keeps it quarantined for a senior reviewer"),
      ...errors,
      404: json(ApiError, "No such study quarantined now in this tenant"),
      409: json(ApiError, "A retry of a study quarantined for what it contains (repair or skip it instead)"),
    },
  }),
};

const missing = { error: "not_found", message: "No such quarantined study in this tenant." };

export function registerQuarantineRoutes(app: OpenAPIHono, opts: { db: EngineDb; evidence?: EvidenceStore; runners?: MigrationRunners }) {
  const evidenceOf = async (slug: string, itemId: string, evidenceId: string) => {
    if (!(await getTenantQuarantineItem(opts.db, slug, itemId)) || !opts.evidence) return null;
    const row = await findEvidence(opts.db, parseItemId(itemId), evidenceId);
    return row ? { row, bytes: await readEvidence(opts.evidence, row) } : null;
  };

  app.openapi(routes.list, async (c) => {
    const { slug } = c.req.valid("param");
    try {
      return c.json(await listTenantQuarantine(opts.db, slug, c.req.valid("query")), 200);
    } catch (e) {
      if (e instanceof Error && e.message === "invalid cursor") return c.json({ error: "invalid_request", message: "The cursor is not one this API issued.", fields: { cursor: ["invalid"] } }, 400);
      throw e;
    }
  });

  app.openapi(routes.detail, async (c) => {
    const { slug, itemId } = c.req.valid("param");
    const item = await getTenantQuarantineItem(opts.db, slug, itemId);
    if (!item) return c.json(missing, 404);
    const rows = await listEvidence(opts.db, parseItemId(itemId));
    // The review screen asks for the first instance's preview right after this: start rendering it now.
    const first = rows.find((r) => r.side === "source");
    const store = opts.evidence;
    if (first && store) void evidencePreview(first.id, () => readEvidence(store, first)).catch(() => {});
    const instances = rows.map((r) => ({ id: r.id, side: r.side, sopInstanceUid: r.sopInstanceUid, position: r.position, sizeBytes: r.sizeBytes, sha256: r.sha256 }));
    return c.json({ item, instances }, 200);
  });

  app.openapi(routes.bytes, async (c) => {
    const { slug, itemId, evidenceId } = c.req.valid("param");
    const found = await evidenceOf(slug, itemId, evidenceId);
    if (!found) return c.json(missing, 404);
    // Evidence of one attempt never changes (a new quarantine writes new ids): cacheable by the console.
    return c.body(new Uint8Array(found.bytes), 200, { "content-type": "application/dicom", "content-length": String(found.bytes.length), etag: `"${found.row.sha256}"` });
  });

  app.openapi(routes.preview, async (c) => {
    const { slug, itemId, evidenceId } = c.req.valid("param");
    if (!(await getTenantQuarantineItem(opts.db, slug, itemId)) || !opts.evidence) return c.json(missing, 404);
    const row = await findEvidence(opts.db, parseItemId(itemId), evidenceId);
    if (!row) return c.json(missing, 404);
    const store = opts.evidence;
    // No preview this time when it could not be made (a timeout on a busy machine): the viewer still shows the image.
    const png = await evidencePreview(row.id, () => readEvidence(store, row)).catch(() => null);
    if (!png) return c.json({ error: "not_renderable", message: "DCMTK cannot render this instance's pixel data." }, 422);
    return c.body(new Uint8Array(png), 200, { "content-type": "image/png", "content-length": String(png.length), etag: `"${row.sha256}-preview"` });
  });

  app.openapi(routes.header, async (c) => {
    const { slug, itemId, evidenceId } = c.req.valid("param");
    const found = await evidenceOf(slug, itemId, evidenceId);
    if (!found) return c.json(missing, 404);
    return c.json(parseElements(found.bytes), 200);
  });

  app.openapi(routes.diff, async (c) => {
    const { slug, itemId } = c.req.valid("param");
    const item = await getTenantQuarantineItem(opts.db, slug, itemId);
    if (!item) return c.json(missing, 404);
    const ev = item.evidence as { sopInstanceUid?: string; expectedSha256?: string; targetSha256?: string };
    const rows = await listEvidence(opts.db, parseItemId(itemId));
    const target = rows.find((r) => r.side === "target");
    const source = target && rows.find((r) => r.side === "source" && r.sopInstanceUid === target.sopInstanceUid);
    const differences = source && target && opts.evidence ? diffElements(parseElements(await readEvidence(opts.evidence, source)), parseElements(await readEvidence(opts.evidence, target))) : [];
    return c.json({ sopInstanceUid: ev.sopInstanceUid ?? null, expectedSha256: ev.expectedSha256 ?? null, targetSha256: ev.targetSha256 ?? null, differences }, 200);
  });

  app.openapi(routes.decide, async (c) => {
    const { slug, itemId } = c.req.valid("param");
    const k = parseItemId(itemId);
    const m = await getMigration(opts.db, slug, k.migrationId);
    if (!m) return c.json(missing, 404);
    const decided = await decideStudy(opts.db, m, { ...c.req.valid("json"), sourceId: k.sourceId, studyInstanceUid: k.studyInstanceUid });
    if (!decided) return c.json({ error: "not_found", message: "That study is not quarantined now (already decided?)." }, 404);
    if (!decided.ok) return c.json({ error: "not_retryable", message: decided.refused }, 409);
    if (c.req.valid("json").decision === "repair" || c.req.valid("json").decision === "retry") opts.runners?.kick(m.id);
    return c.json((await getTenantQuarantineItem(opts.db, slug, itemId))!, 200);
  });
}
