// The one permissions catalog: roles → permissions. The UI hides what a role can't do; the server enforces it.
export const TENANT_ROLES = ["tenant_admin", "clinical_reviewer"] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

export const ROLE_LABELS: Record<TenantRole | "engineer", string> = {
  tenant_admin: "Tenant admin",
  clinical_reviewer: "Clinical reviewer",
  engineer: "Engineer",
};

export const PERMISSIONS = {
  "overview.view": ["tenant_admin", "clinical_reviewer"],
  "settings.view": ["tenant_admin"],
  "settings.update": ["tenant_admin"],
  "hold-queue.view": ["tenant_admin", "clinical_reviewer"],
  "hold-queue.purge": ["tenant_admin"],
  "routers.view": ["tenant_admin", "clinical_reviewer"],
  "routers.manage": ["tenant_admin"],
  "retention.view": ["tenant_admin", "clinical_reviewer"],
  "retention.update": ["tenant_admin"],
  "ae-titles.view": ["tenant_admin", "clinical_reviewer"],
  "ae-titles.update": ["tenant_admin"],
  "audit.view": ["tenant_admin"],
  "audit.checkpoint": ["tenant_admin"],
} as const satisfies Record<string, readonly TenantRole[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(roles: readonly TenantRole[], permission: Permission): boolean {
  const allowed: readonly TenantRole[] = PERMISSIONS[permission];
  return roles.some((r) => allowed.includes(r));
}

/** The roles that hold a permission: what pages and handlers pass to the membership check. */
export const rolesFor = (permission: Permission): TenantRole[] => [...PERMISSIONS[permission]];
