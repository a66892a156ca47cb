"use client";

export default function GlobalError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: "system-ui, sans-serif", padding: "3rem" }}>
        <h1>The console hit an unexpected error</h1>
        <p>Nothing you saved was lost. Try again; if it keeps happening, give this reference to support: {error.digest ?? "n/a"}</p>
        <button onClick={reset}>Try again</button>
      </body>
    </html>
  );
}
