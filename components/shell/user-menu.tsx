"use client";

import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { LogOut, Monitor, Moon, Sun, UserRound } from "lucide-react";
import { useTheme } from "next-themes";
import { useParams } from "next/navigation";
import { ROLE_LABELS } from "@/server/auth/permissions";
import type { MyTenant } from "./types";

const item =
  "flex cursor-pointer items-center gap-2 rounded px-2 py-1.5 text-sm outline-none data-[highlighted]:bg-slate-100 dark:data-[highlighted]:bg-slate-800";

export function UserMenu(props: {
  name: string;
  email: string;
  isEngineer: boolean;
  /** when the IdP last verified the person's credentials (seconds since the epoch) */
  authTime: number;
  tenants: MyTenant[];
  signOut: () => Promise<void>;
}) {
  const { setTheme } = useTheme();
  const params = useParams<{ tenant?: string }>();
  const tenant = props.tenants.find((t) => t.slug === params.tenant);
  const roles = [...(props.isEngineer ? ["engineer" as const] : []), ...(tenant?.roles ?? [])].map((r) => ROLE_LABELS[r]);
  return (
    <DropdownMenu.Root>
      <DropdownMenu.Trigger
        aria-label="User menu"
        className="flex items-center gap-2 rounded-md px-2 py-1.5 text-sm hover:bg-slate-100 dark:hover:bg-slate-800"
      >
        <UserRound className="h-4 w-4" aria-hidden />
        <span data-testid="user-name">{props.name}</span>
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content
          align="end"
          sideOffset={6}
          className="z-50 min-w-64 rounded-md border border-slate-200 bg-white p-1 shadow-lg dark:border-slate-700 dark:bg-slate-900"
        >
          <div className="px-2 py-1.5">
            <div className="text-sm font-medium">{props.name}</div>
            <div className="text-xs text-slate-500">{props.email}</div>
            <div className="text-xs text-slate-500">
              Authenticated <time data-testid="auth-time" dateTime={new Date(props.authTime * 1000).toISOString()}>{new Date(props.authTime * 1000).toLocaleTimeString()}</time>
            </div>
            <div data-testid="user-roles" className="mt-1 text-xs text-slate-600 dark:text-slate-400">
              {roles.length ? roles.join(", ") : "No role in this tenant"}
            </div>
          </div>
          <DropdownMenu.Separator className="my-1 h-px bg-slate-200 dark:bg-slate-700" />
          <DropdownMenu.Label className="px-2 py-1 text-xs text-slate-500">Theme</DropdownMenu.Label>
          <DropdownMenu.Item className={item} onSelect={() => setTheme("light")}>
            <Sun className="h-4 w-4" aria-hidden /> Light
          </DropdownMenu.Item>
          <DropdownMenu.Item className={item} onSelect={() => setTheme("dark")}>
            <Moon className="h-4 w-4" aria-hidden /> Dark
          </DropdownMenu.Item>
          <DropdownMenu.Item className={item} onSelect={() => setTheme("system")}>
            <Monitor className="h-4 w-4" aria-hidden /> System
          </DropdownMenu.Item>
          <DropdownMenu.Separator className="my-1 h-px bg-slate-200 dark:bg-slate-700" />
          <DropdownMenu.Item className={item} onSelect={() => void props.signOut()}>
            <LogOut className="h-4 w-4" aria-hidden /> Sign out
          </DropdownMenu.Item>
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
}
