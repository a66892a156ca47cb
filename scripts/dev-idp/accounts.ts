// The development identity provider's demo accounts (password "demo" for each). Development and tests only.
export const DEV_ENGINEER_GROUP = "vendor-engineers";
export const DEMO_PASSWORD = "demo";

export type DemoAccount = {
  sub: string;
  email: string;
  name: string;
  groups: string[];
  /** what the account is for, as the README and the launcher describe it */
  description: string;
};

export const DEMO_ACCOUNTS: DemoAccount[] = [
  { sub: "demo-admin-northside", email: "admin@northside.test", name: "Nora Admin", groups: [], description: "tenant admin, Northside Health" },
  { sub: "demo-admin-lakeview", email: "admin@lakeview.test", name: "Liam Admin", groups: [], description: "tenant admin, Lakeview Imaging" },
  { sub: "demo-reviewer-northside", email: "reviewer@northside.test", name: "Rita Reviewer", groups: [], description: "clinical reviewer, Northside Health" },
  { sub: "demo-reviewer2-northside", email: "reviewer2@northside.test", name: "Rob Second", groups: [], description: "clinical reviewer, Northside Health (countersigns)" },
  { sub: "demo-senior-northside", email: "senior@northside.test", name: "Sam Senior", groups: [], description: "senior reviewer, Northside Health (escalations)" },
  { sub: "demo-lead-northside", email: "lead@northside.test", name: "Mia Lead", groups: [], description: "migration operator, Northside Health (plans and runs migrations)" },
  { sub: "demo-reviewer-lakeview", email: "reviewer@lakeview.test", name: "Lena Reviewer", groups: [], description: "clinical reviewer, Lakeview Imaging" },
  // In no tenant until an engineer creates one and invites them (the onboarding path, e2e/onboarding.spec.ts).
  { sub: "demo-admin-harbor", email: "admin@harbor.test", name: "Hana Harbor", groups: [], description: "no tenant yet: an engineer creates Harbor Clinic and invites them as its admin" },
  { sub: "demo-reviewer-harbor", email: "reviewer@harbor.test", name: "Hugo Reviewer", groups: [], description: "no tenant yet: Harbor Clinic's admin invites them" },
  { sub: "demo-engineer", email: "engineer@vendor.test", name: "Evan Engineer", groups: [DEV_ENGINEER_GROUP], description: "vendor engineer (operations)" },
];

export function findAccount(email: string, password: string): DemoAccount | undefined {
  const account = DEMO_ACCOUNTS.find((a) => a.email === email.trim().toLowerCase());
  return account && password === DEMO_PASSWORD ? account : undefined;
}
