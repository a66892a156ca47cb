"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState, useTransition } from "react";
import type { MigrationInventory } from "@/engine/api/contract";
import type { ActionResult } from "@/server/action-result";

type Props = {
  status: string;
  discovered: number;
  /** while discovery runs: the C-FINDs so far, their matches, and the query now */
  discovery: { queries: number; matches: number; current: string } | null;
  lastError: string | null;
  inventory: MigrationInventory | null;
  editHref: string;
  versionsHref: string;
  /** the approved version the engine follows; nothing is discovered or started before there is one */
  versionInForce: number | null;
  pendingVersion: number | null;
  discover: () => Promise<ActionResult>;
  start: () => Promise<ActionResult>;
};

/** Before a migration runs: discover what the sources hold, read the inventory, then start (the engine may refuse). */
export function LaunchPanel({ status, discovered, discovery, lastError, inventory, editHref, versionsHref, versionInForce, pendingVersion, discover, start }: Props) {
  const router = useRouter();
  const [pending, run] = useTransition();
  const [result, setResult] = useState<ActionResult | null>(null);
  const act = (fn: () => Promise<ActionResult>) => run(async () => {
    const r = await fn();
    setResult(r);
    router.refresh();
  });
  // While discovery runs, the page re-reads the counts every two seconds.
  useEffect(() => {
    if (status !== "discovering") return;
    const t = setInterval(() => router.refresh(), 2000);
    return () => clearInterval(t);
  }, [status, router]);
  const approved = versionInForce !== null;
  const canDiscover = approved && (status === "created" || status === "ready" || status === "failed");
  return (
    <section className="space-y-3 rounded-lg border border-slate-200 p-4 dark:border-slate-800" aria-label="Launch" data-testid="launch-panel">
      <h2 className="font-medium">Discover and start</h2>
      <p className="text-sm" data-testid="launch-status">
        Status: <strong>{status}</strong>
        {status === "discovering" && <> — <span data-testid="discovered-so-far">{discovered}</span> studies recorded so far</>}
      </p>
      {status === "discovering" && discovery && (
        <p className="text-xs text-slate-600" data-testid="discovery-progress">
          {discovery.queries} C-FIND queries asked, {discovery.matches} matches (before duplicates are removed). Now: {discovery.current}
        </p>
      )}
      <p className="text-sm" data-testid="launch-version">
        {approved ? `Plan version ${versionInForce} is in force.` : "No plan version is approved yet: discovery and start wait for an approval."}
        {pendingVersion !== null && <> Version {pendingVersion} awaits approval.</>} <a href={versionsHref} className="text-sky-700 underline">Plan versions and approval</a>
      </p>
      {status === "failed" && lastError && <p role="alert" className="text-sm text-red-700">{lastError}</p>}
      <div className="flex items-center gap-2">
        {canDiscover && (
          <button type="button" disabled={pending} onClick={() => act(discover)} className="rounded-md bg-sky-700 px-3 py-1.5 text-sm text-white disabled:opacity-50">
            {status === "ready" ? "Discover again" : "Discover"}
          </button>
        )}
        {approved && status === "ready" && (
          <button type="button" disabled={pending} onClick={() => act(start)} className="rounded-md bg-emerald-700 px-3 py-1.5 text-sm text-white disabled:opacity-50">
            Start
          </button>
        )}
        <a href={editHref} className="text-sm text-sky-700 underline">Edit plan</a>
        {result && (
          <span role={result.ok ? "status" : "alert"} data-testid="launch-result" className={result.ok ? "text-sm text-slate-600" : "text-sm text-red-700"}>
            {result.message}
          </span>
        )}
      </div>
      {inventory && status !== "discovering" && (
        <div data-testid="inventory" className="text-sm">
          <p>
            Found <strong data-testid="inventory-studies">{inventory.studies}</strong> studies, <strong data-testid="inventory-instances">{inventory.instances}</strong> instances
            {inventory.instancesUnknown > 0 && ` (${inventory.instancesUnknown} studies without an instance count from the source)`}.
          </p>
          {inventory.rows.length > 0 && (
            <table className="mt-1 text-left text-xs">
              <thead className="text-slate-500">
                <tr><th className="pr-4">Source</th><th className="pr-4">Modality</th><th className="pr-4">Study year</th><th className="pr-4">Studies</th><th>Instances</th></tr>
              </thead>
              <tbody>
                {inventory.rows.map((r) => (
                  <tr key={`${r.sourceId} ${r.modality} ${r.year}`} data-testid="inventory-row">
                    <td className="pr-4">{r.sourceId}</td><td className="pr-4">{r.modality}</td><td className="pr-4">{r.year}</td><td className="pr-4">{r.studies}</td><td>{r.instances}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p className="text-[11px] text-slate-500">A study with several modalities is counted under each.</p>
        </div>
      )}
    </section>
  );
}
