import { formatTime } from "@/components/ui/format";

/** On every page of a suspended tenant, for its own people (and an engineer on a grant). */
export function SuspensionBanner({ since, reason }: { since: Date; reason: string }) {
  return (
    <div role="status" data-testid="suspension-banner" className="mb-4 rounded-md border border-red-300 bg-red-50 px-4 py-2 text-sm text-red-950 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
      <p>
        <strong>This tenant is suspended since {formatTime(since.toISOString())}</strong>: new studies are refused; held results are kept
        (they still expire at the end of their TTL) and routers are disconnected until it is reactivated.
      </p>
      {reason && <p className="mt-1 text-red-900 dark:text-red-200">Reason given: {reason}</p>}
    </div>
  );
}
