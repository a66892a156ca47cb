import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { startDevIdp } from "../dev-idp/provider";

const client = { clientId: "console", clientSecret: "s3cret", redirectUris: ["http://localhost:9/cb"], postLogoutRedirectUris: ["http://localhost:9/out"] };

/** A browser stand-in: follows redirects by hand and keeps the IdP's cookies. */
class Browser {
  cookies = new Map<string, string>();
  async fetch(url: string, init: RequestInit = {}) {
    const res = await fetch(url, {
      ...init,
      redirect: "manual",
      headers: { ...(init.headers as Record<string, string>), cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const [k, ...v] = pair!.split("=");
      this.cookies.set(k!, v.join("="));
    }
    return res;
  }
  /** Follows redirects until a page (200) or the client's redirect URI. */
  async go(url: string, init?: RequestInit): Promise<{ url: string; res: Response }> {
    let current = url;
    let res = await this.fetch(current, init);
    while (res.status >= 300 && res.status < 400) {
      current = new URL(res.headers.get("location")!, current).toString();
      if (current.startsWith("http://localhost:9/")) return { url: current, res };
      res = await this.fetch(current);
    }
    return { url: current, res };
  }
}

describe("development OpenID Connect provider", () => {
  let idp: Awaited<ReturnType<typeof startDevIdp>>;
  let discovery: Record<string, string>;
  beforeAll(async () => {
    idp = await startDevIdp({ port: 0, clients: [client] });
    discovery = await (await fetch(`http://127.0.0.1:${idp.port}/.well-known/openid-configuration`)).json();
  });
  afterAll(async () => idp?.close());

  const local = (u: string) => u.replace("localhost", "127.0.0.1");

  function authorizeUrl(extra: Record<string, string> = {}) {
    const verifier = randomBytes(32).toString("base64url");
    const u = new URL(local(discovery.authorization_endpoint!));
    const p = {
      client_id: client.clientId,
      response_type: "code",
      redirect_uri: client.redirectUris[0]!,
      scope: "openid email profile groups",
      state: randomBytes(8).toString("hex"),
      nonce: randomBytes(8).toString("hex"),
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
      ...extra,
    };
    for (const [k, v] of Object.entries(p)) u.searchParams.set(k, v);
    return { url: u.toString(), verifier };
  }

  async function login(b: Browser, page: { url: string; res: Response }, email: string, password: string) {
    const html = await page.res.text();
    const action = html.match(/action="([^"]+)"/)![1]!;
    return b.go(new URL(action, page.url).toString(), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email, password }).toString(),
    });
  }

  async function redeem(callback: string, verifier: string) {
    const code = new URL(callback).searchParams.get("code")!;
    const res = await fetch(local(discovery.token_endpoint!), {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`,
      },
      body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: client.redirectUris[0]!, code_verifier: verifier }),
    });
    expect(res.status).toBe(200);
    const { id_token } = (await res.json()) as { id_token: string };
    const jwks = createRemoteJWKSet(new URL(local(discovery.jwks_uri!)));
    const { payload } = await jwtVerify(id_token, jwks, { issuer: idp.issuer, audience: client.clientId });
    return payload;
  }

  it("issues a signed ID token with e-mail, verification, name, groups and auth_time", async () => {
    const b = new Browser();
    const { url, verifier } = authorizeUrl();
    const page = await b.go(url);
    expect(page.res.status).toBe(200);
    expect(await page.res.clone().text()).toContain("Development identity provider");
    const done = await login(b, page, "engineer@vendor.test", "demo");
    const claims = await redeem(done.url, verifier);
    expect(claims).toMatchObject({ email: "engineer@vendor.test", email_verified: true, name: "Evan Engineer", groups: ["vendor-engineers"] });
    expect(typeof claims.auth_time).toBe("number");
  });

  it("refuses a wrong password with a message and no code", async () => {
    const b = new Browser();
    const page = await b.go(authorizeUrl().url);
    const again = await login(b, page, "admin@northside.test", "wrong");
    expect(again.res.status).toBe(200);
    expect(again.url).not.toContain("code=");
    expect(await again.res.text()).toContain("Invalid email or password");
  });

  it("reuses its session silently, but prompt=login and max_age=0 force a fresh password entry", async () => {
    const b = new Browser();
    const first = authorizeUrl();
    const t1 = (await redeem((await login(b, await b.go(first.url), "admin@northside.test", "demo")).url, first.verifier)).auth_time as number;

    const silent = await b.go(authorizeUrl().url);
    expect(silent.url).toContain("code="); // existing IdP session, no form

    for (const extra of [{ prompt: "login" }, { max_age: "0" }] as Record<string, string>[]) {
      await new Promise((r) => setTimeout(r, 1100));
      const step = authorizeUrl(extra);
      const page = await b.go(step.url);
      expect(page.res.status).toBe(200);
      expect(await page.res.clone().text()).toContain('name="password"');
      const claims = await redeem((await login(b, page, "admin@northside.test", "demo")).url, step.verifier);
      expect(claims.auth_time as number).toBeGreaterThan(t1);
    }
  });
});
