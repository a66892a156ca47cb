/** What a page shows instead of its engine data when the engine cannot be reached. */
export function EngineUnreachable({ message }: { message: string }) {
  return (
    <div role="status" data-testid="engine-unreachable" className="rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
      <p className="font-medium">Engine unreachable</p>
      <p>The relay engine is not answering, so live data cannot be shown. Configuration you save meanwhile is kept and applied once it is back.</p>
      <p className="mt-1 text-xs opacity-75">{message}</p>
    </div>
  );
}
