"use client";

import { useState, useTransition } from "react";
import type { ActionResult } from "@/server/action-result";

/** A button that runs a server action bound to one grant, with its outcome beside it. */
export function GrantButton({ label, run, confirm, tone = "plain", testId }: { label: string; run: () => Promise<ActionResult | undefined | void>; confirm?: string; tone?: "plain" | "danger"; testId?: string }) {
  const [result, setResult] = useState<ActionResult | null>(null);
  const [pending, start] = useTransition();
  return (
    <span className="inline-flex items-center gap-2">
      <button
        type="button"
        data-testid={testId}
        disabled={pending}
        onClick={() => {
          if (confirm && !window.confirm(confirm)) return;
          start(async () => setResult((await run()) ?? null));
        }}
        className={tone === "danger" ? "rounded bg-red-700 px-2 py-0.5 text-xs text-white disabled:opacity-50" : "rounded border border-slate-300 px-2 py-0.5 text-xs disabled:opacity-50 dark:border-slate-700"}
      >
        {label}
      </button>
      {result && <span role="status" className={result.ok ? "text-xs text-emerald-700" : "text-xs text-red-700"}>{result.message}</span>}
    </span>
  );
}
