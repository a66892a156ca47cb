"use client";

export default function ConsoleError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div role="alert" className="max-w-xl">
      <h1 className="text-xl font-semibold">Something went wrong loading this page</h1>
      <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
        Nothing you saved was lost. Try again; if it keeps happening, quote reference {error.digest ?? "n/a"} to support.
      </p>
      <button onClick={reset} className="mt-4 rounded-md border px-3 py-1.5 text-sm">Try again</button>
    </div>
  );
}
