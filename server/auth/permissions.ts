// The one permissions catalog: roles → permissions. The UI hides what a role can't do; the server enforces it.
// Engineers hold no tenant role: an active break-glass grant gives them a grant role for that tenant only.
export const TENANT_ROLES = ["tenant_admin", "clinical_reviewer", "senior_reviewer", "migration_operator"] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];
export const GRANT_ROLES = ["engineer_read_only", "engineer_read_write"] as const;
export type GrantRole = (typeof GRANT_ROLES)[number];
/** What a person holds in one tenant: a membership role, or a grant role while a break-glass grant is active. */
export type AccessRole = TenantRole | GrantRole;

export const ROLE_LABELS: Record<AccessRole | "engineer", string> = {
  tenant_admin: "Tenant admin",
  clinical_reviewer: "Clinical reviewer",
  senior_reviewer: "Senior reviewer",
  migration_operator: "Migration operator",
  engineer_read_only: "Engineer (break-glass, read-only)",
  engineer_read_write: "Engineer (break-glass, read-write)",
  engineer: "Engineer",
};

const READERS = ["tenant_admin", "clinical_reviewer", "senior_reviewer", "migration_operator", "engineer_read_only", "engineer_read_write"] as const;
const WRITERS = ["tenant_admin", "engineer_read_write"] as const;

export const PERMISSIONS = {
  "overview.view": READERS,
  "settings.view": ["tenant_admin"],
  // The tenant's own people, never a vendor under a grant: who is a member, with which role.
  "members.view": ["tenant_admin"],
  "members.manage": ["tenant_admin"],
  "settings.update": ["tenant_admin"],
  "hold-queue.view": READERS,
  "hold-queue.purge": WRITERS,
  "routers.view": READERS,
  "routers.manage": WRITERS,
  "retention.view": READERS,
  "retention.update": WRITERS,
  "ae-titles.view": READERS,
  "ae-titles.update": WRITERS,
  "audit.view": ["tenant_admin", "engineer_read_only", "engineer_read_write"],
  "audit.checkpoint": WRITERS,
  "migrations.view": READERS,
  // Changing a running migration is engineering work done under a read-write grant; tenant admins follow it read-only.
  "migrations.control": ["engineer_read_write"],
  "migrations.report": WRITERS,
  // The customer's migration lead plans, tests, discovers and starts a migration from the console (an engineer under a
  // read-write grant may do the same); the archive credentials it needs are the tenant's own.
  "migrations.operate": ["migration_operator", "engineer_read_write"],
  // A plan version runs only once the customer approves it (an e-signature): their migration lead or admin, never a
  // vendor under a grant; the tenant admin sets whether the approver must be someone other than its author.
  "migrations.approve": ["migration_operator", "tenant_admin"],
  "migrations.policy": ["tenant_admin"],
  "webhooks.view": ["tenant_admin", "engineer_read_only", "engineer_read_write"],
  "webhooks.manage": WRITERS,
  // The tenant's own oversight of vendor access: never through a grant.
  "break-glass.view": ["tenant_admin"],
  "break-glass.manage": ["tenant_admin"],
  // Quarantine review: admins and engineers under a grant read; only reviewers decide and sign (never a grant).
  "quarantine.view": READERS,
  "quarantine.decide": ["clinical_reviewer", "senior_reviewer"],
  /** escalated studies are decided by senior reviewers */
  "quarantine.decide-escalated": ["senior_reviewer"],
  "quarantine.policy": ["tenant_admin"],
} as const satisfies Record<string, readonly AccessRole[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(roles: readonly AccessRole[], permission: Permission): boolean {
  const allowed: readonly AccessRole[] = PERMISSIONS[permission];
  return roles.some((r) => allowed.includes(r));
}

/** The roles that hold a permission: what pages and handlers pass to the membership check. */
export const rolesFor = (permission: Permission): AccessRole[] => [...PERMISSIONS[permission]];
