// The dev IdP's HTML: a plain login form and an auto-submitting logout confirmation.
const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const layout = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f1f5f9; display: flex; min-height: 100vh; align-items: center; justify-content: center; margin: 0; }
  main { background: #fff; border: 1px solid #e2e8f0; border-radius: 12px; padding: 2rem; width: 22rem; }
  .dev { background: #fef3c7; color: #92400e; font-size: .8rem; padding: .5rem .75rem; border-radius: 6px; }
  label { display: block; margin-top: 1rem; font-size: .9rem; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem; border: 1px solid #cbd5e1; border-radius: 6px; }
  button { margin-top: 1.25rem; width: 100%; padding: .6rem; background: #0369a1; color: #fff; border: 0; border-radius: 6px; font-size: 1rem; }
  .error { color: #991b1b; background: #fee2e2; padding: .5rem .75rem; border-radius: 6px; }
</style></head><body><main>${body}</main></body></html>`;

export function loginPage(opts: { action: string; email?: string; error?: string; clientName: string }) {
  return layout(
    "Sign in · development identity provider",
    `<p class="dev">Development identity provider: demo accounts only, not for production.</p>
<h1>Sign in</h1>
<p>to continue to ${escape(opts.clientName)}</p>
${opts.error ? `<p class="error" role="alert">${escape(opts.error)}</p>` : ""}
<form method="post" action="${escape(opts.action)}" autocomplete="off">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" required autofocus value="${escape(opts.email ?? "")}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  <button type="submit">Sign in</button>
</form>`,
  );
}

/** oidc-provider's logout confirmation, answered "yes" automatically: signing out of the console ends this session too. */
export function logoutPage(form: string) {
  return layout(
    "Signing out",
    `<p class="dev">Development identity provider</p><p>Signing you out…</p>${form}
<script>
  var f = document.getElementById("op.logoutForm");
  var i = document.createElement("input"); i.type = "hidden"; i.name = "logout"; i.value = "yes"; f.appendChild(i); f.submit();
</script>
<noscript><p>JavaScript is off: <button form="op.logoutForm" name="logout" value="yes">Sign out</button></p></noscript>`,
  );
}

export function errorPage(message: string) {
  return layout("Sign-in error", `<p class="dev">Development identity provider</p><h1>Sign-in error</h1><p class="error">${escape(message)}</p>`);
}
