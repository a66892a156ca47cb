// Demo only: a tenant that was offboarded, so /ops shows what offboarding leaves (the receipt, the kept audit log
// to export). It goes through the same verbs an engineer uses, against the running engine, as "demo-seed".
import { systemContext } from "@/server/context";
import { closeDb } from "@/server/db";
import { completeOffboarding, requestOffboarding } from "@/server/tenancy/offboarding";
import { setTenantSuspension } from "@/server/tenancy/operations";
import { createTenant, listAllTenants } from "@/server/tenancy/service";

export const DEMO_OFFBOARDED_TENANT = {
  slug: "harbourview",
  name: "Harbourview Clinic",
  ttlDays: 7,
  calledAeTitles: ["HARBOURVIEW"],
  allowedCallingAeTitles: [],
  members: [{ email: "admin@harbourview.test", role: "tenant_admin" as const }],
};

export async function seedOffboardedTenant() {
  const { slug } = DEMO_OFFBOARDED_TENANT;
  let t = (await listAllTenants()).find((x) => x.slug === slug);
  if (t?.offboardedAt) return;
  if (!t) {
    await createTenant(DEMO_OFFBOARDED_TENANT, "demo-seed");
    t = (await listAllTenants()).find((x) => x.slug === slug)!;
  }
  const engineer = { id: systemContext(t.id).actor.userId, name: "demo-seed", email: "", isEngineer: true, authTime: Math.floor(Date.now() / 1000) };
  if (!t.suspendedAt) await setTenantSuspension(engineer, slug, true, { reason: "Demo: the contract ended" });
  if (!t.offboardingRequestedAt) await requestOffboarding(engineer, slug, { confirmSlug: slug, reason: "Demo: contract ended, studies returned to the site" });
  await completeOffboarding(engineer, slug, { confirm: `delete ${slug}` });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  seedOffboardedTenant()
    .then(() => closeDb())
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
