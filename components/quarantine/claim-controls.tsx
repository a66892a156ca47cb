"use client";

import { useState, useTransition } from "react";
import type { ActionResult } from "@/server/action-result";

export function ClaimControls({ holder, mine, claim, release }: { holder: string | null; mine: boolean; claim: () => Promise<ActionResult>; release: () => Promise<ActionResult> }) {
  const [note, setNote] = useState<ActionResult | null>(null);
  const [pending, start] = useTransition();
  return (
    <div className="flex items-center gap-2 text-sm" data-testid="claim">
      <span>{holder ? `Claimed by ${holder}` : "Unclaimed"}</span>
      {!holder && <button type="button" disabled={pending} onClick={() => start(async () => setNote(await claim()))} className="rounded border px-2 py-1">Claim</button>}
      {mine && <button type="button" disabled={pending} onClick={() => start(async () => setNote(await release()))} className="rounded border px-2 py-1">Release</button>}
      {note && <span role="status" className={note.ok ? "text-emerald-700" : "text-red-700"}>{note.message}</span>}
    </div>
  );
}
