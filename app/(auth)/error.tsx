"use client";

export default function AuthError({ reset }: { error: Error; reset: () => void }) {
  return (
    <div role="alert">
      <h1 className="text-lg font-semibold">Sign-in is unavailable right now</h1>
      <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">The identity provider did not answer. Try again in a moment.</p>
      <button onClick={reset} className="mt-4 rounded-md border px-3 py-1.5 text-sm">Try again</button>
    </div>
  );
}
