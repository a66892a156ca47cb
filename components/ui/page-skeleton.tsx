/** The placeholder shown while a console page loads. */
export function PageSkeleton() {
  return (
    <div aria-busy="true" className="animate-pulse space-y-3">
      <div className="h-7 w-64 rounded bg-slate-200 dark:bg-slate-800" />
      <div className="h-32 rounded bg-slate-100 dark:bg-slate-900" />
    </div>
  );
}
