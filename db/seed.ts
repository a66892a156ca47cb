// Demo data for the embedded/demo mode only (the launcher never runs this against an external database).
// Runs as the application role through the same verbs the console uses, so it is audited like any change.
import { closeDb } from "@/server/db";
import { createTenant, listAllTenants } from "@/server/tenancy/service";

export const DEMO_TENANTS = [
  {
    slug: "northside",
    name: "Northside Health",
    ttlDays: 7,
    calledAeTitles: ["NORTHSIDE"],
    allowedCallingAeTitles: [],
    members: [
      { email: "admin@northside.test", role: "tenant_admin" as const },
      { email: "reviewer@northside.test", role: "clinical_reviewer" as const },
      { email: "reviewer2@northside.test", role: "clinical_reviewer" as const },
      { email: "senior@northside.test", role: "senior_reviewer" as const },
      { email: "lead@northside.test", role: "migration_operator" as const },
    ],
  },
  {
    slug: "lakeview",
    name: "Lakeview Imaging",
    ttlDays: 7,
    calledAeTitles: ["LAKEVIEW"],
    allowedCallingAeTitles: [],
    members: [
      { email: "admin@lakeview.test", role: "tenant_admin" as const },
      { email: "reviewer@lakeview.test", role: "clinical_reviewer" as const },
    ],
  },
];

export async function seedDemoData() {
  const existing = new Set((await listAllTenants()).map((t) => t.slug));
  for (const t of DEMO_TENANTS) {
    if (!existing.has(t.slug)) await createTenant(t, "demo-seed");
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  seedDemoData()
    .then(() => closeDb())
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
