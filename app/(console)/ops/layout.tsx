import type { ReactNode } from "react";
import { requireEngineer } from "@/server/auth/session";

/** Checked here, above ops/loading.tsx, so a non-engineer gets a real 404 status. */
export default async function OpsLayout({ children }: { children: ReactNode }) {
  await requireEngineer();
  return children;
}
