import type { ReactNode } from "react";
import { requireTenantRole } from "@/server/auth/session";

/** Every page under /t/[tenant] needs a membership in that tenant; anything else is a 404. */
export default async function TenantLayout({ children, params }: { children: ReactNode; params: Promise<{ tenant: string }> }) {
  await requireTenantRole((await params).tenant);
  return children;
}
