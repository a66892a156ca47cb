"use server";

import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireTenantRole } from "../auth/session";
import { generateReport } from "./reports";
import { pauseMigration, resumeMigration, rollbackMigration, updateMigrationSettings } from "./service";

export async function pauseMigrationAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.control"));
  return actionResult(async () => {
    await pauseMigration(ctx, id);
    return { message: "Paused: nothing new starts; studies in flight finish." };
  });
}

export async function resumeMigrationAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.control"));
  return actionResult(async () => {
    await resumeMigration(ctx, id);
    return { message: "Resumed." };
  });
}

export async function rollbackMigrationAction(slug: string, id: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.control"));
  return actionResult(async () => {
    const f = formFields(form);
    const r = await rollbackMigration(ctx, id, { checkpointId: f.checkpointId ?? "", reason: f.reason ?? "" });
    const n = r.studies.length;
    return { message: `Rolled back to checkpoint ${r.checkpoint.seq}: ${n} ${n === 1 ? "study" : "studies"} to redo. The migration is paused: resume it to redo them.` };
  });
}

export async function updateMigrationSettingsAction(slug: string, id: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.control"));
  return actionResult(async () => {
    const f = formFields(form);
    await updateMigrationSettings(ctx, id, {
      windows: f.windows ?? "",
      overallCap: f.overallCap ?? "",
      perSourceCap: f.perSourceCap ?? "",
      priority: f.priority ?? "",
      concurrency: f.concurrency ?? "",
    });
    return { message: "Saved: the runners apply it before their next study." };
  });
}

export async function generateReportAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.report"));
  return actionResult(async () => {
    const r = await generateReport(ctx, id, "on_demand");
    return { message: "Report ready.", data: { id: r.id } };
  });
}
