import type { AccessRole } from "@/server/auth/permissions";

/** What the shell needs to know about a tenant the person belongs to (serializable for client components). */
export type MyTenant = { slug: string; name: string; roles: AccessRole[] };
