// A real OpenID Connect provider (npm oidc-provider) with the demo accounts, for local runs and e2e tests only.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { type Configuration } from "oidc-provider";
import { DEMO_ACCOUNTS, findAccount } from "./accounts";
import { errorPage, loginPage, logoutPage } from "./pages";

export type DevIdpClient = { clientId: string; clientSecret: string; redirectUris: string[]; postLogoutRedirectUris: string[] };

function signingKey() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: randomBytes(8).toString("hex"), use: "sig", alg: "RS256" };
}

async function readForm(req: http.IncomingMessage) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new Error("form too large");
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function send(res: http.ServerResponse, status: number, html: string) {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(html);
}

export async function startDevIdp(opts: { port: number; issuer?: string; clients: DevIdpClient[] }) {
  let provider: Provider | undefined;
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((e) => {
      if (!res.headersSent) send(res, 500, errorPage(e instanceof Error ? e.message : String(e)));
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    if (!provider) return send(res, 503, errorPage("starting"));
    const url = new URL(req.url ?? "/", "http://localhost");
    const m = url.pathname.match(/^\/interaction\/([\w-]+)(\/login)?$/);
    if (!m) return provider.callback()(req, res);

    const details = await provider.interactionDetails(req, res);
    const action = `/interaction/${details.uid}/login`;
    const clientName = String(details.params.client_id ?? "the console");
    if (m[2] && req.method === "POST") {
      const form = await readForm(req);
      const account = findAccount(form.get("email") ?? "", form.get("password") ?? "");
      if (!account) return send(res, 200, loginPage({ action, clientName, email: form.get("email") ?? "", error: "Invalid email or password" }));
      return provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
    }
    if (details.prompt.name === "login") return send(res, 200, loginPage({ action, clientName }));

    // First-party clients only: consent is granted without asking.
    const { prompt, params, session, grantId } = details;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
    if (!grant) throw new Error("grant not found");
    const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(" "));
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = opts.issuer ?? `http://localhost:${port}`;

  const configuration: Configuration = {
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris,
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      require_auth_time: true,
    })),
    scopes: ["openid", "email", "profile", "groups"],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
    // Put email, name and groups in the ID token itself (the console reads them from there).
    conformIdTokenClaims: false,
    async findAccount(_ctx, sub) {
      const a = DEMO_ACCOUNTS.find((x) => x.sub === sub);
      if (!a) return undefined;
      return { accountId: a.sub, claims: async () => ({ sub: a.sub, email: a.email, email_verified: true, name: a.name, groups: a.groups }) };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    jwks: { keys: [signingKey() as never] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = "html";
          ctx.body = logoutPage(form);
        },
      },
    },
    renderError: async (ctx, out) => {
      ctx.type = "html";
      ctx.body = errorPage(`${out.error}: ${out.error_description ?? ""}`);
    },
  };
  provider = new Provider(issuer, configuration);

  return {
    issuer,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
