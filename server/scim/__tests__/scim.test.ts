// SCIM 2.0 against the real console database and the real /scim/v2 route handlers, served by node:http and called
// with fetch, as an identity provider would: create, filter, deactivate (the person's open session is refused on its
// next request), reactivate, replace, delete; group membership as role changes audited with old and new roles; wrong
// and revoked tokens, another tenant's token, the last-admin rule and malformed bodies answered in the SCIM error shape.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEntries, memberships, users } from "@/db/schema";
import * as GroupRoute from "@/app/scim/v2/Groups/[id]/route";
import * as GroupsRoute from "@/app/scim/v2/Groups/route";
import * as UserRoute from "@/app/scim/v2/Users/[id]/route";
import * as UsersRoute from "@/app/scim/v2/Users/route";
import * as ServiceProviderConfigRoute from "@/app/scim/v2/ServiceProviderConfig/route";
import * as ResourceTypesRoute from "@/app/scim/v2/ResourceTypes/route";
import * as ResourceTypeRoute from "@/app/scim/v2/ResourceTypes/[id]/route";
import * as SchemasRoute from "@/app/scim/v2/Schemas/route";
import * as SchemaRoute from "@/app/scim/v2/Schemas/[id]/route";
import { useConsoleDatabase } from "../../../test/console-db";
import { sessionStillValid } from "../../auth/ended-sessions";
import { recordSignIn } from "../../auth/sign-in";
import type { TenantContext } from "../../context";
import { closeDb, db, withTenant } from "../../db";
import { createTenantAsEngineer } from "../../tenancy/operations";
import { createScimToken, revokeScimToken } from "../tokens";

type Handler = (req: Request, route?: { params: Promise<Record<string, string>> }) => Promise<Response>;

/** The app's routing for /scim/v2, as Next does it: the route module's method export, with its [id] param. */
function route(pathname: string, method: string): { fn?: Handler; params?: Record<string, string> } {
  const m = /^\/scim\/v2\/(Users|Groups|ResourceTypes|Schemas|ServiceProviderConfig)(?:\/([^/]+))?$/.exec(pathname);
  if (!m) return {};
  const modules = {
    Users: [UsersRoute, UserRoute],
    Groups: [GroupsRoute, GroupRoute],
    ResourceTypes: [ResourceTypesRoute, ResourceTypeRoute],
    Schemas: [SchemasRoute, SchemaRoute],
    ServiceProviderConfig: [ServiceProviderConfigRoute, {}],
  } as const;
  const mod = modules[m[1] as keyof typeof modules][m[2] ? 1 : 0] as unknown as Record<string, Handler>;
  return { fn: mod[method], params: m[2] ? { id: decodeURIComponent(m[2]) } : undefined };
}

function serve(): Promise<Server> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url!, `http://${req.headers.host}`);
    const { fn, params } = route(url.pathname, req.method!);
    if (!fn) {
      res.writeHead(404).end();
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const body = chunks.length && !["GET", "HEAD"].includes(req.method!) ? Buffer.concat(chunks) : undefined;
    const response = await fn(new Request(url, { method: req.method, headers, body }), params ? { params: Promise.resolve(params) } : undefined);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";

describe("SCIM 2.0 provisioning", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let server: Server;
  let base: string;
  let northToken: string;
  let southToken: string;
  let north: { id: string; slug: string; name: string };
  let south: { id: string; slug: string; name: string };
  let ada: { id: string };
  let benId: string;

  const signIn = (email: string) => recordSignIn({ iss: "https://idp.test", sub: email, email, email_verified: true, name: email.split("@")[0] } as never, false);
  const adminCtx = (t: { id: string; slug: string; name: string }, u: { id: string }, email: string): TenantContext => ({
    tenantId: t.id,
    tenantSlug: t.slug,
    tenantName: t.name,
    roles: ["tenant_admin"],
    actor: { userId: u.id, name: email, email, roles: ["tenant_admin"] },
    requestId: "req",
  });
  const call = (method: string, path: string, token: string | null, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/scim+json" } : {}) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  const rolesOf = (tenantId: string, email: string) =>
    withTenant({ tenantId, actor: { userId: randomUUID(), name: "t", email: "", roles: [] } }, (tx) =>
      tx.select({ role: memberships.role, userId: memberships.userId }).from(memberships).where(and(eq(memberships.tenantId, tenantId), eq(memberships.email, email))),
    );
  const auditOf = (tenantId: string, action: string) =>
    withTenant({ tenantId, actor: { userId: randomUUID(), name: "t", email: "", roles: [] } }, (tx) => tx.select().from(auditEntries).where(and(eq(auditEntries.tenantId, tenantId), eq(auditEntries.action, action))).orderBy(auditEntries.seq));
  const expectScimError = async (res: Response, status: number, scimType?: string) => {
    expect(res.status).toBe(status);
    const body = await res.json();
    expect(body).toMatchObject({ schemas: [ERROR], status: String(status), detail: expect.any(String) });
    if (scimType) expect(body.scimType).toBe(scimType);
    return body;
  };

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    const [e] = await db().insert(users).values({ issuer: "https://idp.test", subject: "evan", email: "evan@vendor.test", name: "Evan" }).returning();
    const engineer = { id: e!.id, name: "Evan", email: "evan@vendor.test", isEngineer: true };
    north = await createTenantAsEngineer(engineer, { slug: "north", name: "North", ttlDays: "7", calledAeTitles: "NORTH", adminEmail: "ada@north.test" });
    south = await createTenantAsEngineer(engineer, { slug: "south", name: "South", ttlDays: "7", calledAeTitles: "SOUTH", adminEmail: "sam@south.test" });
    ada = await signIn("ada@north.test");
    const sam = await signIn("sam@south.test");
    northToken = (await createScimToken(adminCtx(north, ada, "ada@north.test"), { name: "Entra", defaultRole: "clinical_reviewer" })).token;
    southToken = (await createScimToken(adminCtx(south, sam, "sam@south.test"), { name: "Okta", defaultRole: "" })).token;
    server = await serve();
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await closeDb();
    await dbs?.drop();
  });

  it("refuses a missing, wrong or revoked token with a SCIM 401", async () => {
    await expectScimError(await call("GET", "/scim/v2/Users", null), 401);
    await expectScimError(await call("GET", "/scim/v2/Users", "not-a-token"), 401);
    // Right shape and tenant, wrong secret.
    await expectScimError(await call("GET", "/scim/v2/Users", northToken.slice(0, -4) + "AAAA"), 401);
    const spare = await createScimToken(adminCtx(north, ada, "ada@north.test"), { name: "Spare" });
    expect((await call("GET", "/scim/v2/Users", spare.token)).status).toBe(200);
    await revokeScimToken(adminCtx(north, ada, "ada@north.test"), spare.id);
    const res = await call("GET", "/scim/v2/Users", spare.token);
    await expectScimError(res, 401);
    expect(res.headers.get("www-authenticate")).toMatch(/Bearer/);
    await expect(createScimToken(adminCtx(north, ada, "ada@north.test"), { name: "Entra" })).rejects.toThrow(/exists already/);
  });

  it("creates a user (201, the token's default role), refuses a duplicate, finds it by filter", async () => {
    const res = await call("POST", "/scim/v2/Users", northToken, { schemas: [USER], userName: "Ben@North.test", externalId: "entra-ben", name: { givenName: "Ben" }, emails: [{ value: "ben@north.test", primary: true, type: "work" }], active: true });
    expect(res.status).toBe(201);
    const ben = await res.json();
    benId = ben.id;
    expect(ben).toMatchObject({ schemas: [USER], userName: "ben@north.test", externalId: "entra-ben", active: true, emails: [{ value: "ben@north.test", primary: true }], groups: [{ value: "clinical_reviewer" }], meta: { resourceType: "User", location: `${base}/scim/v2/Users/${ben.id}` } });
    expect(res.headers.get("location")).toBe(ben.meta.location);
    expect(res.headers.get("content-type")).toMatch(/application\/scim\+json/);
    expect((await rolesOf(north.id, "ben@north.test")).map((r) => r.role)).toEqual(["clinical_reviewer"]);
    const [created] = await auditOf(north.id, "scim.user.create");
    expect(created).toMatchObject({ target: "member:ben@north.test", actor: { name: "SCIM (token Entra)" }, after: { roles: ["clinical_reviewer"], active: true } });

    await expectScimError(await call("POST", "/scim/v2/Users", northToken, { schemas: [USER], userName: "ben@north.test" }), 409, "uniqueness");

    const list = await (await call("GET", `/scim/v2/Users?filter=${encodeURIComponent('userName eq "BEN@north.test"')}`, northToken)).json();
    expect(list).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], totalResults: 1, startIndex: 1, itemsPerPage: 1, Resources: [{ id: benId }] });
    const none = await (await call("GET", `/scim/v2/Users?filter=${encodeURIComponent('userName eq "nobody@north.test"')}`, northToken)).json();
    expect(none).toMatchObject({ totalResults: 0, Resources: [], itemsPerPage: 0 });
    expect((await (await call("GET", `/scim/v2/Users?filter=${encodeURIComponent('externalId eq "entra-ben"')}`, northToken)).json()).totalResults).toBe(1);
    await expectScimError(await call("GET", `/scim/v2/Users?filter=${encodeURIComponent('userName co "ben"')}`, northToken), 400, "invalidFilter");
    expect(await (await call("GET", `/scim/v2/Users/${benId}`, northToken)).json()).toMatchObject({ id: benId, userName: "ben@north.test" });
    await expectScimError(await call("GET", `/scim/v2/Users/${randomUUID()}`, northToken), 404);
  });

  it("answers malformed bodies with scimType invalidSyntax", async () => {
    await expectScimError(await call("POST", "/scim/v2/Users", northToken, "{not json"), 400, "invalidSyntax");
    await expectScimError(await call("POST", "/scim/v2/Users", northToken, { schemas: [USER] }), 400, "invalidSyntax");
    await expectScimError(await call("POST", "/scim/v2/Users", northToken, { schemas: [USER], userName: "not-an-email" }), 400, "invalidSyntax");
    await expectScimError(await call("POST", "/scim/v2/Users", northToken, { userName: "x@north.test" }), 400, "invalidSyntax");
    await expectScimError(await call("PATCH", `/scim/v2/Users/${benId}`, northToken, { Operations: [{ op: "replace", path: "active", value: false }] }), 400, "invalidSyntax");
    await expectScimError(await call("PATCH", `/scim/v2/Users/${benId}`, northToken, { schemas: [PATCH], Operations: [{ op: "explode", path: "active" }] }), 400, "invalidSyntax");
    await expectScimError(await call("PATCH", `/scim/v2/Users/${benId}`, northToken, { schemas: [PATCH], Operations: [{ op: "replace", path: "active", value: "maybe" }] }), 400, "invalidSyntax");
    await expectScimError(await call("PATCH", "/scim/v2/Groups/senior_reviewer", northToken, { schemas: [PATCH], Operations: [{ op: "add", path: "members", value: "ben" }] }), 400, "invalidSyntax");
    // Nothing changed.
    expect((await rolesOf(north.id, "ben@north.test")).map((r) => r.role)).toEqual(["clinical_reviewer"]);
  });

  it("another tenant's token neither sees nor changes these users", async () => {
    expect(await (await call("GET", "/scim/v2/Users", southToken)).json()).toMatchObject({ totalResults: 0 });
    expect(await (await call("GET", `/scim/v2/Users?filter=${encodeURIComponent('userName eq "ben@north.test"')}`, southToken)).json()).toMatchObject({ totalResults: 0 });
    await expectScimError(await call("GET", `/scim/v2/Users/${benId}`, southToken), 404);
    await expectScimError(await call("PATCH", `/scim/v2/Users/${benId}`, southToken, { schemas: [PATCH], Operations: [{ op: "replace", path: "active", value: false }] }), 404);
    await expectScimError(await call("PUT", `/scim/v2/Users/${benId}`, southToken, { schemas: [USER], userName: "ben@north.test", active: false }), 404);
    await expectScimError(await call("DELETE", `/scim/v2/Users/${benId}`, southToken), 404);
    await expectScimError(await call("PATCH", "/scim/v2/Groups/tenant_admin", southToken, { schemas: [PATCH], Operations: [{ op: "add", path: "members", value: [{ value: benId }] }] }), 400, "invalidValue");
    expect((await (await call("GET", "/scim/v2/Groups/clinical_reviewer", southToken)).json()).members).toEqual([]);
    // South's own provisioning gives no role without a group (its token has no default role).
    const s = await call("POST", "/scim/v2/Users", southToken, { schemas: [USER], userName: "ben@north.test" });
    expect(s.status).toBe(201);
    expect((await s.json()).groups).toEqual([]);
    expect(await rolesOf(south.id, "ben@north.test")).toEqual([]);
    expect((await rolesOf(north.id, "ben@north.test")).map((r) => r.role)).toEqual(["clinical_reviewer"]);
  });

  it("group membership is the role: add and remove audited with old and new roles", async () => {
    const groups = await (await call("GET", "/scim/v2/Groups", northToken)).json();
    expect(groups).toMatchObject({ totalResults: 4, itemsPerPage: 4 });
    expect(groups.Resources.map((g: { displayName: string }) => g.displayName)).toEqual(["tenant_admin", "clinical_reviewer", "senior_reviewer", "migration_operator"]);
    expect((await (await call("GET", `/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "senior_reviewer"')}`, northToken)).json()).Resources.map((g: { id: string }) => g.id)).toEqual(["senior_reviewer"]);

    const add = await call("PATCH", "/scim/v2/Groups/senior_reviewer", northToken, { schemas: [PATCH], Operations: [{ op: "Add", path: "members", value: [{ value: benId }] }] });
    expect(add.status).toBe(200);
    expect((await add.json()).members).toEqual([expect.objectContaining({ value: benId, display: "ben@north.test" })]);
    const remove = await call("PATCH", "/scim/v2/Groups/clinical_reviewer", northToken, { schemas: [PATCH], Operations: [{ op: "remove", path: `members[value eq "${benId}"]` }] });
    expect(remove.status).toBe(200);
    expect((await remove.json()).members).toEqual([]);
    expect((await rolesOf(north.id, "ben@north.test")).map((r) => r.role)).toEqual(["senior_reviewer"]);
    const changes = await auditOf(north.id, "scim.user.roles");
    expect(changes.map((c) => [c.actor, c.target, c.before, c.after])).toEqual([
      [expect.objectContaining({ name: "SCIM (token Entra)" }), "member:ben@north.test", { roles: ["clinical_reviewer"] }, { roles: ["clinical_reviewer", "senior_reviewer"] }],
      [expect.objectContaining({ name: "SCIM (token Entra)" }), "member:ben@north.test", { roles: ["clinical_reviewer", "senior_reviewer"] }, { roles: ["senior_reviewer"] }],
    ]);
    await expectScimError(await call("GET", "/scim/v2/Groups/owners", northToken), 404);
    await expectScimError(await call("PATCH", "/scim/v2/Groups/senior_reviewer", northToken, { schemas: [PATCH], Operations: [{ op: "replace", path: "displayName", value: "Seniors" }] }), 400, "mutability");
  });

  it("deactivating ends the person's open session at once; reactivating gives the roles back", async () => {
    const ben = await signIn("ben@north.test");
    expect((await rolesOf(north.id, "ben@north.test"))[0]!.userId).toBe(ben.id);
    // Ben's open session, as the session cookie carries it; checked by the function the jwt callback runs per request.
    const session = { sid: randomUUID(), uid: ben.id, startedAt: Date.now() - 1000 };
    expect(await sessionStillValid(session)).toBe(true);

    // Entra's shape: op "Replace", active as the string "False".
    const res = await call("PATCH", `/scim/v2/Users/${benId}`, northToken, { schemas: [PATCH], Operations: [{ op: "Replace", path: "active", value: "False" }] });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: benId, active: false, groups: [] });
    expect(await sessionStillValid(session)).toBe(false);
    expect(await rolesOf(north.id, "ben@north.test")).toEqual([]);
    const [off] = await auditOf(north.id, "scim.user.deactivate");
    expect(off).toMatchObject({ actor: { name: "SCIM (token Entra)" }, target: "member:ben@north.test", before: { active: true, roles: ["senior_reviewer"] }, after: { active: false, roles: [], sessionsEnded: 1 } });
    // A session begun afterwards is a session again, but without a role here.
    expect(await sessionStillValid({ sid: randomUUID(), uid: ben.id, startedAt: Date.now() + 5 })).toBe(true);

    const on = await call("PATCH", `/scim/v2/Users/${benId}`, northToken, { schemas: [PATCH], Operations: [{ op: "replace", value: { active: true } }] });
    expect(await on.json()).toMatchObject({ active: true, groups: [{ value: "senior_reviewer" }] });
    expect(await sessionStillValid(session)).toBe(false);
    const [back] = await auditOf(north.id, "scim.user.reactivate");
    expect(back).toMatchObject({ before: { active: false, roles: [] }, after: { active: true, roles: ["senior_reviewer"] } });

    // PUT replaces the whole user: displayName kept, userName may not change.
    const put = await call("PUT", `/scim/v2/Users/${benId}`, northToken, { schemas: [USER], userName: "ben@north.test", displayName: "Ben North", externalId: "entra-ben", active: true });
    expect(await put.json()).toMatchObject({ displayName: "Ben North", active: true });
    await expectScimError(await call("PUT", `/scim/v2/Users/${benId}`, northToken, { schemas: [USER], userName: "benjamin@north.test" }), 400, "mutability");
  });

  it("keeps the last signed-in admin, answered as a SCIM 409", async () => {
    // Ada, invited by the engineer, is taken over by the IdP with the role she has.
    const res = await call("POST", "/scim/v2/Users", northToken, { schemas: [USER], userName: "ada@north.test" });
    expect(res.status).toBe(201);
    const adaUser = await res.json();
    expect(adaUser.groups.map((g: { value: string }) => g.value)).toEqual(["tenant_admin"]);
    const session = { sid: randomUUID(), uid: ada.id, startedAt: Date.now() - 1000 };
    await expectScimError(await call("PATCH", `/scim/v2/Users/${adaUser.id}`, northToken, { schemas: [PATCH], Operations: [{ op: "replace", path: "active", value: false }] }), 409);
    await expectScimError(await call("DELETE", `/scim/v2/Users/${adaUser.id}`, northToken), 409);
    await expectScimError(await call("PATCH", "/scim/v2/Groups/tenant_admin", northToken, { schemas: [PATCH], Operations: [{ op: "remove", path: `members[value eq "${adaUser.id}"]` }] }), 409);
    // Refused as a whole: her role, her session and the audit chain are as they were.
    expect((await rolesOf(north.id, "ada@north.test")).map((r) => r.role)).toEqual(["tenant_admin"]);
    expect(await sessionStillValid(session)).toBe(true);
    expect((await auditOf(north.id, "scim.user.deactivate")).length).toBe(1);
  });

  it("deletes a user (204): roles gone, sessions ended, audited", async () => {
    const ben = await signIn("ben@north.test");
    const session = { sid: randomUUID(), uid: ben.id, startedAt: Date.now() + 1 };
    await new Promise((r) => setTimeout(r, 10));
    expect(await sessionStillValid(session)).toBe(true);
    const res = await call("DELETE", `/scim/v2/Users/${benId}`, northToken);
    expect(res.status).toBe(204);
    expect(await sessionStillValid(session)).toBe(false);
    await expectScimError(await call("GET", `/scim/v2/Users/${benId}`, northToken), 404);
    expect(await rolesOf(north.id, "ben@north.test")).toEqual([]);
    const [gone] = await auditOf(north.id, "scim.user.delete");
    expect(gone).toMatchObject({ actor: { name: "SCIM (token Entra)" }, target: "member:ben@north.test", before: { active: true, roles: ["senior_reviewer"] }, after: { roles: [] } });
    await expectScimError(await call("DELETE", `/scim/v2/Users/${benId}`, northToken), 404);
    // South's record of the same e-mail is South's: still there.
    expect((await (await call("GET", `/scim/v2/Users?filter=${encodeURIComponent('userName eq "ben@north.test"')}`, southToken)).json()).totalResults).toBe(1);
  });
  it("describes itself (RFC 7644 §4) as it behaves: PATCH and eq filters yes, bulk and sort no; only with a token", async () => {
    await expectScimError(await call("GET", "/scim/v2/ServiceProviderConfig", null), 401);
    const config = await (await call("GET", "/scim/v2/ServiceProviderConfig", northToken)).json();
    expect(config).toMatchObject({ patch: { supported: true }, bulk: { supported: false }, filter: { supported: true, maxResults: 200 }, sort: { supported: false }, etag: { supported: false } });
    expect(config.authenticationSchemes[0]).toMatchObject({ type: "oauthbearertoken" });
    // What it claims holds: a page never exceeds maxResults, however many are asked for.
    const page = await (await call("GET", "/scim/v2/Users?count=100000", northToken)).json();
    expect(page.itemsPerPage).toBeLessThanOrEqual(config.filter.maxResults);

    const types = await (await call("GET", "/scim/v2/ResourceTypes", northToken)).json();
    expect(types.Resources.map((t: { id: string }) => t.id)).toEqual(["User", "Group"]);
    const schemas = await (await call("GET", "/scim/v2/Schemas", northToken)).json();
    for (const t of types.Resources as { id: string; schema: string; endpoint: string }[]) {
      // Every resource type's schema is served, and its endpoint answers.
      expect(schemas.Resources.map((s: { id: string }) => s.id)).toContain(t.schema);
      expect((await call("GET", `/scim/v2/Schemas/${encodeURIComponent(t.schema)}`, northToken)).status).toBe(200);
      expect((await call("GET", `/scim/v2/ResourceTypes/${t.id}`, northToken)).status).toBe(200);
      expect((await call("GET", `/scim/v2${t.endpoint}`, northToken)).status).toBe(200);
    }
    const user = schemas.Resources.find((s: { id: string }) => s.id === USER);
    expect(user.attributes.find((a: { name: string }) => a.name === "userName")).toMatchObject({ required: true, uniqueness: "server" });
    await expectScimError(await call("GET", "/scim/v2/ResourceTypes/Device", northToken), 404);
    await expectScimError(await call("GET", "/scim/v2/Schemas/urn:example:nothing", northToken), 404);
  });
});
