// Engine tests that run a migration need an approved plan version first (engine/migration/plan-versions.ts): the
// console records the e-signature, these helpers stand in for it with a named test approver.
type EngineApi = { url: string; token: string };

export const TEST_APPROVER = { userId: "test-approver", name: "Test Approver" };

async function call(engine: EngineApi, method: string, p: string, body?: unknown) {
  const res = await fetch(engine.url + p, { method, headers: { authorization: `Bearer ${engine.token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  return { status: res.status, body: json };
}

/** Approves version n (by default the latest) of a migration's plan, as a test approver who is not its author. */
export async function approveVersion(engine: EngineApi, slug: string, id: string, n?: number) {
  const base = `/v1/tenants/${slug}/migrations/${id}`;
  const m = (await call(engine, "GET", base)).body;
  const version = n ?? (m?.version as number);
  // Already in force (a test discovering again): nothing to sign.
  if (m?.versionInForce === version) return m!;
  const r = await call(engine, "POST", `${base}/versions/${version}/approve`, {
    signer: { ...TEST_APPROVER, meaning: "approved", signatureId: `test-signature-${version}`, signedAt: new Date().toISOString() },
    requireDifferentPerson: false,
  });
  if (r.status !== 200) throw new Error(`approving version ${version} of ${id}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body!;
}

/** Creates a migration and approves its version 1: what the console does after a second person signs. */
export async function createApprovedMigration(engine: EngineApi, slug: string, plan: unknown) {
  const created = await call(engine, "POST", `/v1/tenants/${slug}/migrations`, plan);
  if (created.status !== 201) return created;
  await approveVersion(engine, slug, created.body!.id as string, 1);
  return call(engine, "GET", `/v1/tenants/${slug}/migrations/${created.body!.id as string}`).then((r) => ({ ...r, status: 201 }));
}
