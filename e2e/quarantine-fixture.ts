// Real quarantined studies for the end-to-end specs: studies built from pydicom's files are put in a tenant's
// import folder, migrated by the real engine to a real Orthanc, and the instances named in the engine's test-only
// fault file come back from the target with a pixel byte flipped: a hash mismatch through the whole pipeline.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "@playwright/test";
import { startOrthanc } from "../test/orthanc";
import { approveVersion } from "../test/migrations";

export const sopOf = (file: string) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0008,0018", file]).toString())![1]!;
export { makeCtStudy } from "../test/studies";

const engineApi = async (p: string, init: RequestInit = {}) => {
  const res = await fetch(`${process.env.E2E_ENGINE_ADMIN_URL}${p}`, { ...init, headers: { authorization: `Bearer ${process.env.E2E_ENGINE_ADMIN_TOKEN}`, "content-type": "application/json" } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { counts?: Record<string, number>; status?: string } };
};

/** Flip a pixel byte of these instances' target copies, once each (the engine reads the file at every verification). */
export function flipAtTarget(sops: string[]) {
  const file = process.env.E2E_ENGINE_FAULT_FILE!;
  let current: string[] = [];
  try {
    current = (JSON.parse(readFileSync(file, "utf8")) as { flipTargetPixelOnce: string[] }).flipTargetPixelOnce;
  } catch {}
  writeFileSync(file, JSON.stringify({ flipTargetPixelOnce: [...current, ...sops] }));
}

/** Migrates the folder `name` of the tenant's import root (already filled) to a fresh Orthanc; resolves when completed. */
export async function migrateFolder(slug: string, name: string) {
  const target = await startOrthanc({ aeTitle: `T${randomBytes(3).toString("hex").toUpperCase()}`, overwrite: true });
  const created = await engineApi(`/v1/tenants/${slug}/migrations`, {
    method: "POST",
    body: JSON.stringify({
      name,
      sources: [{ kind: "filesystem", id: "disk", path: name }],
      target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
      filters: { studyDateFrom: "1900-01-01", studyDateTo: "2099-12-31" },
      concurrency: 2,
    }),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  await approveVersion({ url: process.env.E2E_ENGINE_ADMIN_URL!, token: process.env.E2E_ENGINE_ADMIN_TOKEN! }, slug, id);
  await engineApi(`/v1/tenants/${slug}/migrations/${id}/discover`, { method: "POST" });
  await expect.poll(async () => (await engineApi(`/v1/tenants/${slug}/migrations/${id}`)).body.status, { timeout: 60_000 }).toBe("ready");
  await engineApi(`/v1/tenants/${slug}/migrations/${id}/start`, { method: "POST" });
  await expect.poll(async () => (await engineApi(`/v1/tenants/${slug}/migrations/${id}`)).body.status, { timeout: 180_000, intervals: [500] }).toBe("completed");
  return { id, target, counts: async () => (await engineApi(`/v1/tenants/${slug}/migrations/${id}`)).body.counts! };
}

export const importFolder = (slug: string, name: string) => path.join(process.env.E2E_IMPORT_ROOT!, slug, name);

type Item = { id: string; studyInstanceUid: string; category: string; state: string; migrationId: string };
export async function quarantineItems(slug: string, migrationId: string, state = "open") {
  const page = await engineApi(`/v1/tenants/${slug}/quarantine?state=${state}&limit=200`);
  return (page.body.items as Item[]).filter((i) => i.migrationId === migrationId);
}
export const studyOf = (file: string) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0020,000d", file]).toString())![1]!;
