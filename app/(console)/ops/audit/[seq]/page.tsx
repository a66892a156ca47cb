import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { z } from "zod";
import { EntryDetail } from "@/components/audit/entry-detail";
import { getAuditEntry, globalChain } from "@/server/audit/queries";
import { requireEngineer } from "@/server/auth/session";

export const metadata: Metadata = { title: "Global audit entry" };

export default async function GlobalAuditEntryPage({ params }: { params: Promise<{ seq: string }> }) {
  await requireEngineer();
  const seq = z.coerce.number().int().positive().safeParse((await params).seq);
  const entry = seq.success ? await getAuditEntry(globalChain, seq.data) : null;
  if (!entry) notFound();
  return <EntryDetail entry={entry} backHref="/ops/audit" />;
}
