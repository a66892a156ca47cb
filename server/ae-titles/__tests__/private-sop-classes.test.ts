// A tenant admin lets a vendor's private SOP class in: audited with a config version bump, pushed by the worker's
// reconcile to a real engine, which then accepts it at that tenant's AE title only.
import { copyFileSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { and, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEntries } from "@/db/schema";
import { PYDICOM_TEST_FILES, dcmtk } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { useConsoleDatabase } from "../../../test/console-db";
import { forwardExact } from "@/engine/dicom/store-exact";
import type { TenantContext } from "../../context";
import { closeDb, withTenant } from "../../db";
import { createEngineClient } from "../../engine/client";
import { reconcileTenantConfig } from "../../tenant-config/reconcile";
import { createTenant } from "../../tenancy/service";
import { addPrivateSopClass, listPrivateSopClasses, removePrivateSopClass } from "../service";

const TOKEN = "console-private-sop-token-".padEnd(48, "s");
const PRIVATE_CLASS = "1.3.6.1.4.1.5962.99.1.2786.334.1";

describe("private SOP classes per tenant", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let client: ReturnType<typeof createEngineClient>;
  let file: string;
  const ctx: Record<string, TenantContext> = {};
  const send = (ae: string) =>
    forwardExact(file, { sopClassUid: PRIVATE_CLASS, transferSyntaxUid: "1.2.840.10008.1.2.1" }, { host: "127.0.0.1", port: engine.dicomPort, aeTitle: ae }, "VENDOR").then(
      () => "stored",
      (e: Error) => e.message,
    );

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    client = createEngineClient({ url: engine.url, token: TOKEN });
    for (const slug of ["north", "south"]) {
      const t = await createTenant({ slug, name: slug, calledAeTitles: [slug.toUpperCase()] });
      ctx[slug] = { tenantId: t.id, tenantSlug: slug, tenantName: slug, roles: ["tenant_admin"], requestId: "test", actor: { userId: "11111111-1111-1111-1111-111111111111", name: `${slug} admin`, email: `admin@${slug}.test`, roles: ["tenant_admin"] } };
      await reconcileTenantConfig(client, t.id);
    }
    file = path.join(mkdtempSync(path.join(os.tmpdir(), "private-")), "private.dcm");
    copyFileSync(path.join(PYDICOM_TEST_FILES, "CT_small.dcm"), file);
    expect((await dcmtk("dcmodify", ["-nb", "-m", `(0008,0016)=${PRIVATE_CLASS}`, file])).code).toBe(0);
  });
  afterAll(async () => {
    await engine?.close();
    await closeDb();
    await dbs?.drop();
  });

  it("refuses a standard or malformed UID with a field message", async () => {
    await expect(addPrivateSopClass(ctx.north!, { uid: "1.2.840.10008.5.1.4.1.1.2" })).rejects.toMatchObject({ issues: [expect.objectContaining({ message: expect.stringContaining("standard") })] });
    await expect(addPrivateSopClass(ctx.north!, { uid: "1..2" })).rejects.toThrow(/numbers separated by dots/);
    expect(await listPrivateSopClasses(ctx.north!)).toEqual([]);
  });

  it("is accepted at the tenant's AE title once pushed, at no other tenant's, and refused again once removed", async () => {
    expect(await send("NORTH")).toMatch(/did not accept/);
    expect(await addPrivateSopClass(ctx.north!, { uid: PRIVATE_CLASS })).toMatchObject({ version: 2 });
    await expect(addPrivateSopClass(ctx.north!, { uid: PRIVATE_CLASS })).rejects.toThrow(/already accepted/);
    const [entry] = await withTenant(ctx.north!, (tx) => tx.select().from(auditEntries).where(and(eq(auditEntries.chain, ctx.north!.tenantId), like(auditEntries.action, "ae-titles.private-sop-class.%"))));
    expect(entry).toMatchObject({ action: "ae-titles.private-sop-class.add", before: { privateSopClasses: [] }, after: { privateSopClasses: [PRIVATE_CLASS], version: 2 } });

    expect(await reconcileTenantConfig(client, ctx.north!.tenantId)).toEqual({ status: "applied", version: 2 });
    expect(await send("NORTH")).toBe("stored");
    // The other tenant: its list is its own, and its AE title still refuses the class.
    expect(await listPrivateSopClasses(ctx.south!)).toEqual([]);
    await expect(removePrivateSopClass(ctx.south!, { uid: PRIVATE_CLASS })).rejects.toThrow(/not in this list/);
    expect(await send("SOUTH")).toMatch(/did not accept/);

    await removePrivateSopClass(ctx.north!, { uid: PRIVATE_CLASS });
    await reconcileTenantConfig(client, ctx.north!.tenantId);
    expect(await send("NORTH")).toMatch(/did not accept/);
  });
});
