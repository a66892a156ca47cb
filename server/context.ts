import "server-only";
import type { AccessRole } from "./auth/permissions";

/** Who is acting: recorded on every audit entry. */
export type Actor = {
  userId: string;
  name: string;
  email: string;
  roles: string[];
  /** the break-glass grant in use, when an engineer acts on a tenant through one */
  grantId?: string;
};

/** Resolved from the session and a membership (never from input); every tenant-scoped verb takes one. */
export type TenantContext = {
  tenantId: string;
  tenantSlug: string;
  tenantName: string;
  roles: AccessRole[];
  actor: Actor;
  requestId: string;
  /** set when an engineer acts through a break-glass grant */
  grant?: { id: string; scope: "read_only" | "read_write"; endsAt: string };
};

/** A signed-in person outside any tenant (listing their own tenants, first sign-in). */
export type UserContext = { userId: string; email: string };

const SYSTEM_USER_ID = "00000000-0000-0000-0000-000000000000";

/** The context the worker and seed act in: a named system actor, one tenant at a time. */
export function systemContext(tenantId: string, name = "console-worker") {
  return { tenantId, actor: { userId: SYSTEM_USER_ID, name, email: "", roles: ["system"] } satisfies Actor };
}
