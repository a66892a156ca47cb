import type { ReactNode } from "react";
import { Sidebar } from "@/components/shell/sidebar";
import { TenantSwitcher } from "@/components/shell/tenant-switcher";
import { UserMenu } from "@/components/shell/user-menu";
import { signOutAction } from "@/server/auth/actions";
import { requireSession } from "@/server/auth/session";
import { grantRole, listMyGrants } from "@/server/break-glass/service";
import { listMyTenants } from "@/server/tenancy/service";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const user = await requireSession();
  const memberOf = (await listMyTenants({ userId: user.id, email: user.email })).map(({ slug, name, roles }) => ({ slug, name, roles }));
  // An engineer's active break-glass grants put those tenants in the shell too, with the grant's role.
  const granted = user.isEngineer
    ? (await listMyGrants(user))
        .filter(({ grant }) => grant.status === "active" && grant.endsAt && grant.endsAt > new Date())
        .map(({ grant, tenantSlug, tenantName }) => ({ slug: tenantSlug, name: tenantName, roles: [grantRole(grant)] }))
    : [];
  const tenants = [...memberOf, ...granted.filter((g) => !memberOf.some((m) => m.slug === g.slug))];
  return (
    <div className="flex min-h-screen">
      <aside className="w-56 shrink-0 border-r border-slate-200 bg-slate-50 dark:border-slate-800 dark:bg-slate-900">
        <div className="px-5 py-4 text-sm font-semibold tracking-tight">Imaging operations</div>
        <Sidebar tenants={tenants} isEngineer={user.isEngineer} />
      </aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex items-center justify-between border-b border-slate-200 px-6 py-3 dark:border-slate-800">
          <TenantSwitcher tenants={tenants} />
          <UserMenu name={user.name} email={user.email} isEngineer={user.isEngineer} authTime={user.authTime} tenants={tenants} signOut={signOutAction} />
        </header>
        <main className="flex-1 p-6">{children}</main>
      </div>
    </div>
  );
}
