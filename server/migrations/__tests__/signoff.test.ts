// The signed-off migration record against a real engine, a real Orthanc target and the console database: a study
// deleted at the target after it migrated makes the sign-off's own reconciliation unbalanced and the sign-off is
// refused naming it, with nothing recorded; a clean migration signs off into a record that verifies, is
// append-only, renders as a PDF, and another tenant can neither read nor sign.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEntries, migrationSignoffs, users } from "@/db/schema";
import { signoffHtml } from "@/lib/migrations/signoff-record";
import { createEngineClient } from "../../engine/client";
import { startTestEngine } from "../../../test/engine";
import { useConsoleDatabase } from "../../../test/console-db";
import { approveVersion } from "../../../test/migrations";
import { startOrthanc } from "../../../test/orthanc";
import { makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";
import type { AccessRole } from "../../auth/permissions";
import type { TenantContext } from "../../context";
import { closeDb, db, withTenant } from "../../db";
import { InputError, NotFoundError } from "../../errors";
import { createTenant } from "../../tenancy/service";
import { renderPdf } from "../reports";
import { runSample } from "../sample-check";
import { createSpotCheckList, latestSpotCheckList, signSpotCheck, spotCheckInstanceBytes, spotCheckStudy } from "../spot-check";
import { SIGNOFF_MEANING, signedRecord, signOff } from "../signoff";

const TOKEN = "o".repeat(40);

describe("signing off a migration", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  let client: ReturnType<typeof createEngineClient>;
  const ids: Record<string, string> = {};
  const importRoot = mkdtempSync(path.join(os.tmpdir(), "signoff-imports-"));
  const people: Record<string, { id: string; name: string; email: string; isEngineer: boolean; authTime: number }> = {};
  const tenants: Record<string, { id: string; slug: string; name: string }> = {};
  const fresh = (who: string) => ({ ...people[who]!, authTime: Math.floor(Date.now() / 1000) - 5 });
  const ctxOf = (slug: string, who: string, role: AccessRole): TenantContext => ({
    tenantId: tenants[slug]!.id,
    tenantSlug: slug,
    tenantName: tenants[slug]!.name,
    roles: [role],
    actor: { userId: people[who]!.id, name: people[who]!.name, email: people[who]!.email, roles: [role] },
    requestId: "req",
  });
  const api = { url: "", token: TOKEN };

  /** A folder of studies migrated to the Orthanc target, completed. */
  async function completed(folder: string, count: number, start = true) {
    const dir = path.join(importRoot, "north", folder);
    mkdirSync(dir, { recursive: true });
    for (const [i, s] of makeStudies(count, ["2024-02-01"]).entries()) copyFileSync(s.file, path.join(dir, `${i}.dcm`));
    const m = await client.createMigration(
      "north",
      { name: folder, sources: [{ kind: "filesystem", id: "disk", path: folder }], target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port }, filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31", modalities: [] } },
      { userId: people.mia!.id, name: "Mia Lead" },
    );
    await approveVersion(api, "north", m.id);
    await client.discoverMigration("north", m.id);
    await until(() => client.getMigration("north", m.id), (x) => x?.status === "ready", 60_000);
    if (!start) return m.id;
    await client.startMigration("north", m.id);
    await until(() => client.getMigration("north", m.id), (x) => x?.status === "completed", 120_000);
    return m.id;
  }
  const audits = (ctx: TenantContext) => withTenant(ctx, (tx) => tx.select().from(auditEntries).where(eq(auditEntries.action, "migrations.signoff")));

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    mkdirSync(path.join(importRoot, "north"), { recursive: true });
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_IMPORT_ROOT: importRoot } });
    api.url = engine.url;
    client = createEngineClient({ url: engine.url, token: TOKEN, timeoutMs: 120_000 });
    target = await startOrthanc({ aeTitle: "SIGNOFF" });
    Object.assign(process.env, {
      ENGINE_ADMIN_URL: engine.url,
      ENGINE_ADMIN_TOKEN: TOKEN,
      AUTH_SECRET: "z".repeat(40),
      AUTH_URL: "http://localhost:3000",
      AUTH_OIDC_ISSUER: "http://localhost:4000",
      AUTH_OIDC_CLIENT_ID: "console",
      AUTH_OIDC_CLIENT_SECRET: "secret",
      AUTH_STEP_UP_MAX_AGE_SECONDS: "300",
    });
    tenants.north = await createTenant({ slug: "north", name: "North" });
    tenants.south = await createTenant({ slug: "south", name: "South" });
    for (const [key, name] of [["mia", "Mia Lead"], ["noah", "Noah Second"], ["lena", "Lena South"], ["rita", "Rita Reviewer"]]) {
      const [u] = await db().insert(users).values({ issuer: "https://idp.test", subject: key!, email: `${key}@test`, name: name! }).returning();
      people[key!] = { id: u!.id, name: name!, email: `${key}@test`, isEngineer: false, authTime: Math.floor(Date.now() / 1000) - 3600 };
    }
  }, 120_000);
  afterAll(async () => {
    await target?.stop();
    await engine?.close();
    await closeDb();
    await dbs?.drop();
  });

  it("a study deleted at the target after it migrated: the sign-off's reconciliation does not balance, and nothing is signed", async () => {
    const noah = ctxOf("north", "noah", "migration_operator");
    const id = await completed("short", 2);
    ids.short = id;
    const [first] = await target.studies();
    const gone = ((await fetch(`${target.http}/studies/${first}`).then((r) => r.json())) as { MainDicomTags: { StudyInstanceUID: string } }).MainDicomTags.StudyInstanceUID;
    await fetch(`${target.http}/studies/${first}`, { method: "DELETE" });
    await expect(signOff(noah, fresh("noah"), id, { meaning: SIGNOFF_MEANING })).rejects.toThrow(InputError);
    await expect(signOff(noah, fresh("noah"), id, { meaning: SIGNOFF_MEANING })).rejects.toThrow(new RegExp(`does not balance.*${gone.replaceAll(".", "\\.")}`));
    expect(await signedRecord(noah, id)).toBeNull();
    expect(await audits(noah)).toEqual([]);

    // The random sample finds it too: every instance of the deleted study is missing, named; the rest match.
    const sample = await runSample(noah, id, { sample: "10", seed: "audit-1" });
    expect(sample.checked).toBe(2);
    expect(sample.results.filter((r) => r.result === "missing").map((r) => r.studyInstanceUid)).toEqual([gone]);
    expect(sample.matched).toBe(1);
    const entry = (await withTenant(noah, (tx) => tx.select().from(auditEntries).where(eq(auditEntries.action, "migrations.sample-verify"))))[0]!;
    expect(entry.after).toMatchObject({ seed: "audit-1", checked: 2, missing: 1 });
  }, 240_000);

  it("a clean migration signs off into a record that verifies, renders as a PDF, and is signed once", async () => {
    const noah = ctxOf("north", "noah", "migration_operator");
    const notYet = await completed("later", 1, false);
    await expect(signOff(noah, fresh("noah"), notYet, { meaning: SIGNOFF_MEANING })).rejects.toThrow(/it is signed off once it has completed/);
    const id = await completed("clean", 3);
    ids.clean = id;
    const r = await signOff(noah, fresh("noah"), id, { meaning: SIGNOFF_MEANING });
    const kept = (await signedRecord(noah, id))!;
    expect(kept.verified).toBe(true);
    expect(kept.signature).toMatchObject({ signerName: "Noah Second", recordSha256: r.recordSha256, meaning: SIGNOFF_MEANING });
    expect(kept.record).toMatchObject({ counts: { discovered: 3, migrated: 3 }, plan: { version: 1, author: "Mia Lead" }, reconciliation: { balanced: true }, verification: { studies: 3, instances: 3 } });
    const [entry] = await audits(noah);
    expect(entry!.after).toMatchObject({ recordSha256: r.recordSha256, planVersion: 1, verificationSha256: kept.record.verification.reportSha256 });
    await expect(signOff(noah, fresh("noah"), id, { meaning: SIGNOFF_MEANING })).rejects.toThrow(/already signed off/);
    const refused = await withTenant(noah, (tx) => tx.update(migrationSignoffs).set({ meaning: "edited" })).then(() => null, (e: Error & { cause?: Error }) => e.cause?.message ?? e.message);
    expect(refused).toMatch(/append-only/);

    const pdf = await renderPdf(signoffHtml(kept.record, kept.signature));
    const file = path.join(importRoot, "record.pdf");
    (await import("node:fs")).writeFileSync(file, pdf);
    const text = execFileSync("pdftotext", ["-layout", file, "-"]).toString();
    expect(text).toContain("signed-off migration record");
    expect(text).toContain("balanced");
    expect(text.replace(/\s+/g, "")).toContain(r.recordSha256);

    // A seeded sample picks the same instances again; a random one records its seed; nonsense sizes are refused.
    const a = await runSample(noah, id, { sample: "2", seed: "same" });
    const b = await runSample(noah, id, { sample: "2", seed: "same" });
    expect(a.matched).toBe(2);
    expect(b.results.map((r) => r.targetSopInstanceUid)).toEqual(a.results.map((r) => r.targetSopInstanceUid));
    expect((await runSample(noah, id, { sample: "3", seed: "" })).seed).toMatch(/^[0-9a-f]{16}$/);
    await expect(runSample(noah, id, { sample: "0", seed: "" })).rejects.toThrow(/at least one instance/);
    await expect(runSample(noah, id, { sample: "many", seed: "" })).rejects.toThrow();

    // Another tenant: no record to read, no migration to sign.
    const lena = ctxOf("south", "lena", "migration_operator");
    expect(await signedRecord(lena, id)).toBeNull();
    await expect(signOff(lena, fresh("lena"), id, { meaning: SIGNOFF_MEANING })).rejects.toThrow(NotFoundError);
    await expect(runSample(lena, id, { sample: "1", seed: "" })).rejects.toThrow(NotFoundError);
  }, 240_000);

  it("a clinical spot-check: seeded picks, reviewers sign what the target serves, nothing else", async () => {
    const noah = ctxOf("north", "noah", "migration_operator");
    const rita = ctxOf("north", "rita", "clinical_reviewer");
    const id = ids.clean!;
    const first = await createSpotCheckList(noah, id, { count: "2", seed: "look" });
    const again = await createSpotCheckList(noah, id, { count: "2", seed: "look" });
    expect((again.studies as { studyInstanceUid: string }[]).map((s) => s.studyInstanceUid)).toEqual((first.studies as { studyInstanceUid: string }[]).map((s) => s.studyInstanceUid));
    await expect(createSpotCheckList(rita, id, { count: "2", seed: "" })).rejects.toThrow(/approver/);
    await expect(createSpotCheckList(noah, id, { count: "0", seed: "" })).rejects.toThrow(/at least one study/);

    const list = (await latestSpotCheckList(rita, id))!;
    const study = list.studies[0]!.studyInstanceUid;
    const open = (await spotCheckStudy(rita, id, study))!;
    expect(open.instances).toHaveLength(1);
    const bytes = await spotCheckInstanceBytes(rita, id, study, open.instances[0]!.sopInstanceUid);
    expect(Buffer.from(await new Response(bytes!.body).arrayBuffer()).subarray(128, 132).toString()).toBe("DICM");
    expect(await spotCheckInstanceBytes(rita, id, "1.2.3.4", open.instances[0]!.sopInstanceUid)).toBeNull();

    const sign = { meaning: "I have looked at this study's images as the target holds them", note: "" };
    await expect(signSpotCheck(rita, people.rita!, id, study, sign)).rejects.toThrow(/signed in within/);
    await expect(signSpotCheck(noah, fresh("noah"), id, study, sign)).rejects.toThrow(/Clinical reviewers/);
    await expect(signSpotCheck(rita, fresh("rita"), id, "1.2.3.4", sign)).rejects.toThrow(NotFoundError);
    const row = await signSpotCheck(rita, fresh("rita"), id, study, sign);
    expect(row).toMatchObject({ studyInstanceUid: study, instancesSeen: 1, signerName: "Rita Reviewer" });
    await expect(signSpotCheck(rita, fresh("rita"), id, study, sign)).rejects.toThrow(/already signed/);
    expect((await latestSpotCheckList(rita, id))!.studies.find((s) => s.studyInstanceUid === study)!.check).toMatchObject({ signerName: "Rita Reviewer" });
    const [entry] = await withTenant(rita, (tx) => tx.select().from(auditEntries).where(eq(auditEntries.action, "migrations.spot-check")));
    expect(entry!.after).toMatchObject({ studyInstanceUid: study, instancesSeen: 1, expectedInstances: 1 });

    // A study the target no longer holds cannot be signed as looked at.
    await createSpotCheckList(noah, ids.short!, { count: "5", seed: "all" });
    const shortList = (await latestSpotCheckList(rita, ids.short!))!;
    const goneFromTarget = [];
    for (const s of shortList.studies) if (!(await spotCheckStudy(rita, ids.short!, s.studyInstanceUid))!.instances.length) goneFromTarget.push(s.studyInstanceUid);
    expect(goneFromTarget).toHaveLength(1);
    await expect(signSpotCheck(rita, fresh("rita"), ids.short!, goneFromTarget[0]!, sign)).rejects.toThrow(/holds no instance/);

    // Another tenant sees no list and no bytes.
    const lena = ctxOf("south", "lena", "clinical_reviewer");
    expect(await latestSpotCheckList(lena, id)).toBeNull();
    expect(await spotCheckInstanceBytes(lena, id, study, open.instances[0]!.sopInstanceUid)).toBeNull();
  }, 240_000);
});
