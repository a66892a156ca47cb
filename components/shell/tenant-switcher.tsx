"use client";

import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { Building2, Check, ChevronsUpDown } from "lucide-react";
import { useParams, useRouter } from "next/navigation";
import type { MyTenant } from "./types";

export function TenantSwitcher({ tenants }: { tenants: MyTenant[] }) {
  const router = useRouter();
  const params = useParams<{ tenant?: string }>();
  const current = tenants.find((t) => t.slug === params.tenant);
  if (tenants.length === 0) return null;
  return (
    <DropdownMenu.Root>
      <DropdownMenu.Trigger
        aria-label="Switch tenant"
        className="flex items-center gap-2 rounded-md border border-slate-200 px-3 py-1.5 text-sm hover:bg-slate-50 dark:border-slate-700 dark:hover:bg-slate-800"
      >
        <Building2 className="h-4 w-4" aria-hidden />
        <span data-testid="current-tenant">{current?.name ?? "Choose a tenant"}</span>
        <ChevronsUpDown className="h-3.5 w-3.5 opacity-60" aria-hidden />
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content
          align="start"
          sideOffset={6}
          className="z-50 min-w-56 rounded-md border border-slate-200 bg-white p-1 shadow-lg dark:border-slate-700 dark:bg-slate-900"
        >
          {tenants.map((t) => (
            <DropdownMenu.Item
              key={t.slug}
              onSelect={() => router.push(`/t/${t.slug}`)}
              className="flex cursor-pointer items-center justify-between gap-4 rounded px-2 py-1.5 text-sm outline-none data-[highlighted]:bg-slate-100 dark:data-[highlighted]:bg-slate-800"
            >
              {t.name}
              {t.slug === current?.slug && <Check className="h-4 w-4" aria-label="current" />}
            </DropdownMenu.Item>
          ))}
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
}
