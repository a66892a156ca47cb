"use client";

import clsx from "clsx";
import { Clock, FileWarning, Inbox, KeyRound, LayoutDashboard, Network, RadioTower, ScrollText, ShieldCheck, Truck, Users, Webhook } from "lucide-react";
import Link from "next/link";
import { useParams, usePathname } from "next/navigation";
import { can } from "@/server/auth/permissions";
import type { MyTenant } from "./types";

/** Only the areas that exist for this person: a tenant's pages when one is open, operations for engineers. */
export function Sidebar({ tenants, isEngineer }: { tenants: MyTenant[]; isEngineer: boolean }) {
  const pathname = usePathname();
  const params = useParams<{ tenant?: string }>();
  const current = tenants.find((t) => t.slug === params.tenant);
  const items = [
    ...(current ? [{ href: `/t/${current.slug}`, label: "Overview", icon: LayoutDashboard }] : []),
    ...(current
      ? [
          { href: `/t/${current.slug}/hold-queue`, label: "Hold queue", icon: Inbox, permission: "hold-queue.view" as const },
          { href: `/t/${current.slug}/routers`, label: "Routers", icon: RadioTower, permission: "routers.view" as const },
          { href: `/t/${current.slug}/retention`, label: "Retention", icon: Clock, permission: "retention.view" as const },
          { href: `/t/${current.slug}/ae-titles`, label: "AE titles", icon: Network, permission: "ae-titles.view" as const },
          { href: `/t/${current.slug}/migrations`, label: "Migrations", icon: Truck, permission: "migrations.view" as const },
          { href: `/t/${current.slug}/quarantine`, label: "Quarantine review", icon: FileWarning, permission: "quarantine.view" as const },
          { href: `/t/${current.slug}/webhooks`, label: "Webhooks", icon: Webhook, permission: "webhooks.view" as const },
          { href: `/t/${current.slug}/audit`, label: "Audit log", icon: ScrollText, permission: "audit.view" as const },
          { href: `/t/${current.slug}/members`, label: "Members", icon: Users, permission: "members.view" as const },
          { href: `/t/${current.slug}/break-glass`, label: "Vendor access", icon: KeyRound, permission: "break-glass.view" as const },
        ].filter((i) => can(current.roles, i.permission))
      : []),
    ...(isEngineer
      ? [
          { href: "/ops", label: "Operations", icon: ShieldCheck },
          { href: "/ops/audit", label: "Global audit", icon: ScrollText },
        ]
      : []),
  ];
  // The deepest item containing the current path is the current one (Audit log, not Overview, on /t/x/audit/7).
  const active = items
    .filter((i) => pathname === i.href || pathname.startsWith(`${i.href}/`))
    .sort((a, b) => b.href.length - a.href.length)[0]?.href;
  return (
    <nav aria-label="Main" className="flex flex-col gap-1 p-3">
      {items.map(({ href, label, icon: Icon }) => (
        <Link
          key={href}
          href={href}
          aria-current={href === active ? "page" : undefined}
          className={clsx(
            "flex items-center gap-2 rounded-md px-3 py-2 text-sm",
            href === active
              ? "bg-sky-100 font-medium text-sky-900 dark:bg-sky-950 dark:text-sky-100"
              : "text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800",
          )}
        >
          <Icon className="h-4 w-4" aria-hidden />
          {label}
        </Link>
      ))}
    </nav>
  );
}
