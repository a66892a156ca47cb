// Clinical review against a real console database and a real engine (its migration state seeded in the engine's
// own database): claims, signed decisions bound to their study, fresh authentication, roles (admins and engineers
// under a grant never decide, escalations go to senior reviewers), the countersignature policy, bulk signing, and
// another tenant seeing none of it.
import { randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEntries, quarantineClaims, quarantineSignatures, users } from "@/db/schema";
import { connectEngineDb } from "@/engine/store/db";
import { migrations, migrationStudies } from "@/engine/store/schema";
import { startTestEngine } from "../../../test/engine";
import { useConsoleDatabase } from "../../../test/console-db";
import type { AccessRole } from "../../auth/permissions";
import type { TenantContext } from "../../context";
import { closeDb, db, withTenant } from "../../db";
import { ForbiddenError, InputError, StepUpRequiredError } from "../../errors";
import { createTenant } from "../../tenancy/service";
import { claimItem, countersignItem, decideBatch, decideItem, getReview, listQueue, releaseItem, setReviewPolicy } from "../service";
import { verifySignature } from "../signature";

const TOKEN = "console-quarantine-".padEnd(48, "c");
const SECRET = "s".repeat(40);
/** The database's own message (drizzle wraps it), or null when the statement succeeded. */
const pgError = (p: Promise<unknown>) => p.then(() => null, (e: Error & { cause?: Error }) => e.cause?.message ?? e.message);

describe("quarantine review", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let engineDb: ReturnType<typeof connectEngineDb>;
  const ids: Record<string, string> = {};
  let northMigration = "";
  const ctxs: Record<string, TenantContext> = {};
  const people: Record<string, { id: string; name: string; email: string; isEngineer: boolean; authTime: number }> = {};
  const fresh = <T extends { authTime: number }>(p: T): T => ({ ...p, authTime: Math.floor(Date.now() / 1000) - 5 });

  const ctxFor = (t: { id: string; slug: string; name: string }, who: string, role: AccessRole, grant = false): TenantContext => ({
    tenantId: t.id,
    tenantSlug: t.slug,
    tenantName: t.name,
    roles: [role],
    actor: { userId: people[who]!.id, name: people[who]!.name, email: people[who]!.email, roles: [role], ...(grant ? { grantId: "g-1" } : {}) },
    requestId: "req",
    ...(grant ? { grant: { id: "g-1", scope: "read_write" as const, endsAt: new Date(Date.now() + 3_600_000).toISOString() } } : {}),
  });

  async function quarantined(slug: string, migrationId: string, key: string, category: string, message: string) {
    const uid = `1.2.826.0.1.${Math.floor(Math.random() * 1e9)}`;
    await engineDb.db.insert(migrationStudies).values({ migrationId, sourceId: "legacy", studyInstanceUid: uid, studyDate: "20240301", modalities: ["CT"], status: "quarantined", quarantineCategory: category, quarantineEvidence: { message }, finishedAt: new Date() });
    ids[key] = `${migrationId}~legacy~${uid}`;
    void slug;
  }

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    engineDb = connectEngineDb(dbs.engineUrl);
    Object.assign(process.env, {
      ENGINE_ADMIN_URL: engine.url,
      ENGINE_ADMIN_TOKEN: TOKEN,
      AUTH_SECRET: SECRET,
      AUTH_URL: "http://localhost:3000",
      AUTH_OIDC_ISSUER: "http://localhost:4000",
      AUTH_OIDC_CLIENT_ID: "console",
      AUTH_OIDC_CLIENT_SECRET: "secret",
      AUTH_STEP_UP_MAX_AGE_SECONDS: "300",
    });
    const north = await createTenant({ slug: "north", name: "North" });
    const south = await createTenant({ slug: "south", name: "South" });
    for (const [key, name] of [["rita", "Rita Reviewer"], ["rob", "Rob Second"], ["sam", "Sam Senior"], ["nora", "Nora Admin"], ["evan", "Evan Engineer"], ["lena", "Lena South"]]) {
      const [u] = await db().insert(users).values({ issuer: "https://idp.test", subject: key!, email: `${key}@test`, name: name! }).returning();
      people[key!] = { id: u!.id, name: name!, email: `${key}@test`, isEngineer: key === "evan", authTime: Math.floor(Date.now() / 1000) - 3600 };
    }
    Object.assign(ctxs, {
      rita: ctxFor(north, "rita", "clinical_reviewer"),
      rob: ctxFor(north, "rob", "clinical_reviewer"),
      sam: ctxFor(north, "sam", "senior_reviewer"),
      nora: ctxFor(north, "nora", "tenant_admin"),
      evan: ctxFor(north, "evan", "engineer_read_write", true),
      lena: ctxFor(south, "lena", "clinical_reviewer"),
    });
    // Paused migrations: a repair goes back to pending and stays there (no archive behind these plans).
    for (const slug of ["north", "south"]) {
      const id = randomUUID();
      await engineDb.db.insert(migrations).values({ id, tenantSlug: slug, status: "paused", plan: { name: `${slug} archive` } });
      if (slug === "south") await quarantined(slug, id, "southItem", "hash_mismatch", "instance 1.2.3 differs at the target");
      else {
        northMigration = id;
        await quarantined(slug, id, "skipMe", "character_set", "1.2.3.4: Specific Character Set names ISO_IR 999, which is not a DICOM character set");
        await quarantined(slug, id, "escalateMe", "malformed_header", "x.dcm is not a Part 10 file");
        await quarantined(slug, id, "counter", "target_rejected", "instance 1.2.3 is not at the target after sending");
        await quarantined(slug, id, "bulk1", "hash_mismatch", "instance 1.2.840.1111.1 differs at the target");
        await quarantined(slug, id, "bulk2", "hash_mismatch", "instance 1.2.840.2222.2 differs at the target");
      }
    }
  }, 120_000);
  afterAll(async () => {
    await engineDb?.close();
    await engine?.close();
    await closeDb();
    await dbs?.drop();
  });

  it("lists the tenant's queue with counts; claims keep a second reviewer off; other tenants see nothing", async () => {
    const q = await listQueue(ctxs.rita!, { state: "open" });
    expect(q.items).toHaveLength(5);
    expect(q.counts).toEqual({ character_set: 1, malformed_header: 1, target_rejected: 1, hash_mismatch: 2 });
    await claimItem(ctxs.rita!, ids.skipMe!);
    await expect(claimItem(ctxs.rob!, ids.skipMe!)).rejects.toThrow(/Rita Reviewer is already working/);
    await expect(claimItem(ctxs.nora!, ids.skipMe!)).rejects.toBeInstanceOf(ForbiddenError); // admins read
    await expect(claimItem(ctxs.evan!, ids.skipMe!)).rejects.toBeInstanceOf(ForbiddenError); // engineers never decide
    expect((await listQueue(ctxs.rob!, { state: "open" })).items.find((i) => i.id === ids.skipMe)).toMatchObject({ reviewStatus: "claimed", claim: { userName: "Rita Reviewer" } });
    // Another tenant: not in its queue, not found by id, its claims and signatures are invisible in the database.
    expect((await listQueue(ctxs.lena!, { state: "open" })).items.map((i) => i.id)).toEqual([ids.southItem]);
    expect(await getReview(ctxs.lena!, ids.skipMe!)).toBeNull();
    await expect(claimItem(ctxs.lena!, ids.skipMe!)).rejects.toThrow(/No such quarantined study/);
    expect(await withTenant(ctxs.lena!, (tx) => tx.select().from(quarantineClaims))).toEqual([]);
    expect(await pgError(withTenant(ctxs.lena!, (tx) => tx.insert(quarantineClaims).values({ tenantId: ctxs.rita!.tenantId, itemId: "x", userId: people.lena!.id, userName: "Lena" })))).toMatch(/row-level security/);
  });

  it("signing needs a fresh sign-in at the IdP, a meaning and a reason; the claim holder decides", async () => {
    const skip = { decision: "skip", reason: "test study, not clinical", meaning: "I confirm this study is excluded" };
    await expect(decideItem(ctxs.rita!, people.rita!, ids.skipMe!, skip)).rejects.toBeInstanceOf(StepUpRequiredError);
    await expect(decideItem(ctxs.rita!, fresh(people.rita!), ids.skipMe!, { ...skip, meaning: "" })).rejects.toThrow(/State what your signature means/);
    await expect(decideItem(ctxs.rob!, fresh(people.rob!), ids.skipMe!, skip)).rejects.toThrow(/Rita Reviewer is working on this study/);
    await expect(decideItem(ctxs.evan!, fresh(people.evan!), ids.skipMe!, skip)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(decideItem(ctxs.nora!, fresh(people.nora!), ids.skipMe!, skip)).rejects.toBeInstanceOf(ForbiddenError);
    expect(await withTenant(ctxs.rita!, (tx) => tx.select().from(quarantineSignatures))).toEqual([]);

    const { signature } = await decideItem(ctxs.rita!, fresh(people.rita!), ids.skipMe!, skip);
    expect(signature).toMatchObject({ signerName: "Rita Reviewer", meaning: "I confirm this study is excluded" });
    const review = (await getReview(ctxs.rita!, ids.skipMe!))!;
    expect(review.item).toMatchObject({ state: "skipped", decision: { decision: "skip", signer: { name: "Rita Reviewer", signatureId: signature.id } } });
    expect(review.claim).toBeNull();
    const [row] = review.signatures;
    const content = { tenantId: row!.tenantId, itemId: row!.itemId, decision: row!.decision, meaning: row!.meaning, reason: row!.reason, patch: row!.patch, signerUserId: row!.signerUserId, signerName: row!.signerName, signedAt: row!.signedAt.toISOString(), authTime: row!.authTime.toISOString() };
    expect(verifySignature(content, row!.binding, SECRET)).toBe(true);
    // Linked to its study and tenant: the same record on another study or tenant does not verify.
    expect(verifySignature({ ...content, itemId: ids.counter! }, row!.binding, SECRET)).toBe(false);
    expect(verifySignature({ ...content, tenantId: ctxs.lena!.tenantId }, row!.binding, SECRET)).toBe(false);
    // In the audit chain with name, time and meaning; and signatures cannot be edited.
    const [entry] = await withTenant(ctxs.rita!, (tx) => tx.select().from(auditEntries).where(and(eq(auditEntries.action, "quarantine.skip"), eq(auditEntries.target, `quarantine:${ids.skipMe}`))));
    expect(entry!.after).toMatchObject({ signature: { signerName: "Rita Reviewer", signedAt: signature.signedAt, meaning: "I confirm this study is excluded", binding: row!.binding } });
    expect(await pgError(withTenant(ctxs.rita!, (tx) => tx.update(quarantineSignatures).set({ meaning: "x" })))).toMatch(/permission denied|append-only/);
  });

  it("escalated studies are decided by a senior reviewer; patches are checked against the dictionary", async () => {
    await decideItem(ctxs.rita!, fresh(people.rita!), ids.escalateMe!, { decision: "escalate", reason: "vendor must look at the file", meaning: "I refer this study to a senior reviewer" });
    expect((await getReview(ctxs.sam!, ids.escalateMe!))!.item.state).toBe("escalated");
    const repair = { decision: "repair", reason: "fix the date", meaning: "I approve this repair" };
    await expect(decideItem(ctxs.rob!, fresh(people.rob!), ids.escalateMe!, { ...repair, patch: [{ op: "set", tag: "00080020", value: "20240301" }] })).rejects.toBeInstanceOf(ForbiddenError);
    const bad = await decideItem(ctxs.sam!, fresh(people.sam!), ids.escalateMe!, { ...repair, patch: [{ op: "set", tag: "00080020", value: "2024-03-01" }, { op: "set", tag: "0020000D", value: "1.2.3" }] }).catch((e: InputError) => e);
    expect(bad).toBeInstanceOf(InputError);
    expect((bad as InputError).fields).toEqual({ "patch.0.value": ["StudyDate (DA): a date as YYYYMMDD"], "patch.1.tag": ["StudyInstanceUID cannot be repaired by a patch: the migration verifies the study by it"] });
    await decideItem(ctxs.sam!, fresh(people.sam!), ids.escalateMe!, { ...repair, patch: [{ op: "set", tag: "00080020", value: "20240301" }, { op: "remove", tag: "00081030" }] });
    expect((await getReview(ctxs.sam!, ids.escalateMe!))!.item).toMatchObject({ state: "repairing", decision: { decision: "repair", signer: { name: "Sam Senior" }, patch: [{ op: "set", tag: "00080020", value: "20240301" }, { op: "remove", tag: "00081030" }] } });
  });

  it("with the countersignature policy, a repair waits for a second reviewer", async () => {
    await expect(setReviewPolicy(ctxs.rita!, true)).rejects.toBeInstanceOf(ForbiddenError);
    await setReviewPolicy(ctxs.nora!, true);
    const patch = [{ op: "set", tag: "00081030", value: "Resent" }];
    const r = await decideItem(ctxs.rita!, fresh(people.rita!), ids.counter!, { decision: "repair", reason: "resend", meaning: "I approve this repair", patch });
    expect(r.awaitingCountersignature).toBe(true);
    expect((await getReview(ctxs.rita!, ids.counter!))!).toMatchObject({ reviewStatus: "decided", awaitingCountersignature: true, item: { state: "new" } });
    await expect(countersignItem(ctxs.rita!, fresh(people.rita!), ids.counter!, "I countersign this repair")).rejects.toThrow(/second reviewer/);
    await expect(countersignItem(ctxs.rob!, people.rob!, ids.counter!, "I countersign this repair")).rejects.toBeInstanceOf(StepUpRequiredError);
    await countersignItem(ctxs.rob!, fresh(people.rob!), ids.counter!, "I countersign this repair");
    const after = (await getReview(ctxs.rob!, ids.counter!))!;
    expect(after.item).toMatchObject({ state: "repairing", decision: { signer: { name: "Rita Reviewer" } } });
    expect(after.signatures.map((s) => [s.decision, s.signerName])).toEqual([["countersign", "Rob Second"], ["repair", "Rita Reviewer"]]);
    await setReviewPolicy(ctxs.nora!, false);
  });

  it("bulk: one ceremony for items of one pattern, one signature each; different patterns are refused", async () => {
    const skip = { decision: "skip", reason: "known transit fault, studies re-sent by the site", meaning: "I confirm this study is excluded" };
    await expect(decideBatch(ctxs.rob!, fresh(people.rob!), [ids.bulk1!, ids.counter!], skip)).rejects.toThrow(/nothing to decide|one category and one pattern/);
    const r = await decideBatch(ctxs.rob!, fresh(people.rob!), [ids.bulk1!, ids.bulk2!], skip);
    expect(r.signatures).toHaveLength(2);
    const rows = await withTenant(ctxs.rob!, (tx) => tx.select().from(quarantineSignatures).where(eq(quarantineSignatures.batchId, r.batchId)));
    expect(rows.map((x) => x.itemId).sort()).toEqual([ids.bulk1, ids.bulk2].sort());
    expect(new Set(rows.map((x) => x.binding)).size).toBe(2);
    expect((await listQueue(ctxs.rob!, { state: "open" })).counts.hash_mismatch).toBeUndefined();
  });

  it("retry is not repair: a transient cause is retried unchanged and signed; a patch or a content fault is refused", async () => {
    await quarantined("north", northMigration, "away", "source_unavailable", "C-GET of the study failed: association refused");
    await quarantined("north", northMigration, "content", "corrupt_pixel_data", "1.2.3.4: pixel data is shorter than its rows and columns say");
    const retry = { decision: "retry", reason: "the archive is back online", meaning: "I confirm this study is retried unchanged" };
    await expect(decideItem(ctxs.rob!, fresh(people.rob!), ids.away!, { ...retry, patch: [{ op: "set", tag: "00081030", value: "X" }] })).rejects.toThrow(/a tag patch makes it a repair/);
    await expect(decideItem(ctxs.rob!, fresh(people.rob!), ids.content!, retry)).rejects.toThrow(/fails the same way if it is sent again unchanged/);
    const { signature } = await decideItem(ctxs.rob!, fresh(people.rob!), ids.away!, retry);
    const review = (await getReview(ctxs.rob!, ids.away!))!;
    expect(review.item).toMatchObject({ state: "repairing", decision: { decision: "retry", patch: null, signer: { signatureId: signature.id } } });
    expect(review.signatures.map((x) => x.decision)).toEqual(["retry"]);
    const [entry] = await withTenant(ctxs.rob!, (tx) => tx.select().from(auditEntries).where(and(eq(auditEntries.action, "quarantine.retry"), eq(auditEntries.target, `quarantine:${ids.away}`))));
    expect(entry!.after).toMatchObject({ decision: "retry", patch: null });
  });

  it("a released claim frees the study", async () => {
    await claimItem(ctxs.lena!, ids.southItem!);
    await releaseItem(ctxs.lena!, ids.southItem!);
    await expect(releaseItem(ctxs.lena!, ids.southItem!)).rejects.toThrow(/do not hold/);
  });
});
