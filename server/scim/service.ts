import "server-only";
// SCIM 2.0 (RFC 7643/7644) for one tenant, in the transaction the bearer token was checked in (http.ts). A User is a
// scim_users row (userName = the e-mail, lowercased); its roles are the tenant's memberships of that e-mail. The Groups
// are the four tenant roles, id and displayName the role's name (tenant_admin, clinical_reviewer, senior_reviewer,
// migration_operator): group membership is the role. Deactivating (active false) or deleting a user removes its
// memberships here, under the same rules as a tenant admin (the last signed-in admin stays), and ends the person's
// sessions at once. Every change is audited in the same transaction with the old and the new roles.
import { and, asc, eq, inArray, isNotNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import { memberships, scimUsers, users } from "@/db/schema";
import { appendAudit } from "../audit/append";
import { endSessionsOf } from "../auth/ended-sessions";
import { TENANT_ROLES, type TenantRole } from "../auth/permissions";
import type { Actor } from "../context";
import type { Tx } from "../db";
import { InputError } from "../errors";
import { keepsAnAdmin, lockAdmins } from "../tenancy/members";

export const SCHEMA = {
  user: "urn:ietf:params:scim:schemas:core:2.0:User",
  group: "urn:ietf:params:scim:schemas:core:2.0:Group",
  list: "urn:ietf:params:scim:api:messages:2.0:ListResponse",
  patch: "urn:ietf:params:scim:api:messages:2.0:PatchOp",
  error: "urn:ietf:params:scim:api:messages:2.0:Error",
} as const;

/** An answer in the SCIM error shape (RFC 7644 §3.12). */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: string | undefined,
    detail: string,
  ) {
    super(detail);
    this.name = "ScimError";
  }
}

export type ScimContext = {
  tenantId: string;
  token: { id: string; name: string; defaultRole: TenantRole | null };
  actor: Actor;
  requestId: string;
  /** https://host/scim/v2, for meta.location */
  base: string;
};

type ScimUserRow = typeof scimUsers.$inferSelect;

const audit = (tx: Tx, ctx: ScimContext, action: string, email: string, before: unknown, after: unknown) =>
  appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, { action, target: `member:${email}`, before, after });

const parse = <T extends z.ZodType>(schema: T, body: unknown): z.output<T> => {
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ScimError(400, "invalidSyntax", `${i?.path.join(".") || "body"}: ${i?.message ?? "invalid"}`);
  }
  return r.data;
};

const Email = z.email().transform((e) => e.trim().toLowerCase());
/** IdPs send booleans as strings now and then (Entra: "False"). */
const Bool = z.union([z.boolean(), z.enum(["true", "false", "True", "False", "TRUE", "FALSE"]).transform((s) => s.toLowerCase() === "true")]);

const UserBody = z.looseObject({
  schemas: z.array(z.string()).refine((s) => s.includes(SCHEMA.user), `must include ${SCHEMA.user}`),
  userName: Email,
  externalId: z.string().max(500).optional(),
  displayName: z.string().max(500).optional(),
  name: z.looseObject({ formatted: z.string().optional(), givenName: z.string().optional(), familyName: z.string().optional() }).optional(),
  emails: z.array(z.looseObject({ value: z.string(), primary: Bool.optional(), type: z.string().optional() })).optional(),
  active: Bool.optional(),
});

const PatchBody = z.object({
  schemas: z.array(z.string()).refine((s) => s.includes(SCHEMA.patch), `must include ${SCHEMA.patch}`),
  Operations: z
    .array(z.looseObject({ op: z.string().transform((o) => o.toLowerCase()).pipe(z.enum(["add", "replace", "remove"])), path: z.string().optional(), value: z.unknown().optional() }))
    .min(1),
});

const Role = z.enum(TENANT_ROLES);
const MemberRefs = z.array(z.looseObject({ value: z.string() }));

// ——— reading ———

async function rolesOf(tx: Tx, ctx: ScimContext, email: string) {
  const rows = await tx.select({ role: memberships.role }).from(memberships).where(and(eq(memberships.tenantId, ctx.tenantId), eq(memberships.email, email))).orderBy(asc(memberships.role));
  return rows.map((r) => r.role);
}

function userResource(ctx: ScimContext, u: ScimUserRow, roles: TenantRole[]) {
  return {
    schemas: [SCHEMA.user],
    id: u.id,
    ...(u.externalId ? { externalId: u.externalId } : {}),
    userName: u.email,
    ...(u.displayName ? { displayName: u.displayName } : {}),
    emails: [{ value: u.email, primary: true, type: "work" }],
    active: u.active,
    groups: roles.map((r) => ({ value: r, display: r, $ref: `${ctx.base}/Groups/${r}` })),
    meta: { resourceType: "User", created: u.createdAt.toISOString(), lastModified: u.updatedAt.toISOString(), location: `${ctx.base}/Users/${u.id}` },
  };
}

async function findUser(tx: Tx, ctx: ScimContext, id: string, lock = false) {
  if (!z.uuid().safeParse(id).success) throw new ScimError(404, undefined, `No user ${id} in this tenant.`);
  const q = tx.select().from(scimUsers).where(and(eq(scimUsers.id, id), eq(scimUsers.tenantId, ctx.tenantId)));
  const [u] = lock ? await q.for("update") : await q;
  if (!u) throw new ScimError(404, undefined, `No user ${id} in this tenant.`);
  return u;
}

export async function getUser(tx: Tx, ctx: ScimContext, id: string) {
  const u = await findUser(tx, ctx, id);
  return userResource(ctx, u, await rolesOf(tx, ctx, u.email));
}

/** `attr eq "value"`, the one filter IdPs send to match a person before creating them. */
function parseFilter(filter: string | null, attrs: Record<string, string>) {
  if (filter === null || filter.trim() === "") return null;
  const m = /^\s*([A-Za-z.]+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(filter);
  const attr = m && Object.keys(attrs).find((a) => a.toLowerCase() === m[1]!.toLowerCase());
  if (!m || !attr) throw new ScimError(400, "invalidFilter", `Only ${Object.keys(attrs).map((a) => `${a} eq "…"`).join(", ")} filters are supported.`);
  return { attr: attrs[attr]!, value: m[2]!.replace(/\\(.)/g, "$1") };
}

function paging(url: URL) {
  const startIndex = Math.max(1, Number.parseInt(url.searchParams.get("startIndex") ?? "1", 10) || 1);
  const count = Math.min(200, Math.max(0, Number.parseInt(url.searchParams.get("count") ?? "100", 10) || 0));
  return { startIndex, count: url.searchParams.has("count") ? count : 100 };
}

const listResponse = (resources: unknown[], total: number, startIndex: number) => ({ schemas: [SCHEMA.list], totalResults: total, Resources: resources, startIndex, itemsPerPage: resources.length });

export async function listUsers(tx: Tx, ctx: ScimContext, url: URL) {
  const f = parseFilter(url.searchParams.get("filter"), { userName: "email", "emails.value": "email", externalId: "externalId", id: "id" });
  const { startIndex, count } = paging(url);
  let where = eq(scimUsers.tenantId, ctx.tenantId);
  if (f?.attr === "email") where = and(where, eq(scimUsers.email, f.value.trim().toLowerCase()))!;
  if (f?.attr === "externalId") where = and(where, eq(scimUsers.externalId, f.value))!;
  if (f?.attr === "id") where = and(where, z.uuid().safeParse(f.value).success ? eq(scimUsers.id, f.value) : sql`false`)!;
  const [{ n } = { n: 0 }] = await tx.select({ n: sql<number>`count(*)::int` }).from(scimUsers).where(where);
  const rows = await tx.select().from(scimUsers).where(where).orderBy(asc(scimUsers.email)).offset(startIndex - 1).limit(count);
  const resources = [];
  for (const u of rows) resources.push(userResource(ctx, u, await rolesOf(tx, ctx, u.email)));
  return listResponse(resources, n, startIndex);
}

// ——— changing roles under the membership rules ———

/**
 * Gives `email` the role in this tenant: an invitation that does not lapse (the IdP manages it), already taken up
 * when the person has signed in to another of their roles here, so it applies on their next request.
 */
async function grantRole(tx: Tx, ctx: ScimContext, email: string, role: TenantRole) {
  const [linked] = await tx.select({ userId: memberships.userId }).from(memberships).where(and(eq(memberships.tenantId, ctx.tenantId), eq(memberships.email, email), isNotNull(memberships.userId))).limit(1);
  await tx.insert(memberships).values({ tenantId: ctx.tenantId, email, role, userId: linked?.userId ?? null, invitationExpiresAt: null, invitedBy: ctx.actor.name }).onConflictDoNothing();
}

/** Takes the role from `email`; the tenant's last signed-in admin is kept (answered as a SCIM 409). */
async function withdrawRole(tx: Tx, ctx: ScimContext, email: string, role: TenantRole) {
  const [m] = await tx.select().from(memberships).where(and(eq(memberships.tenantId, ctx.tenantId), eq(memberships.email, email), eq(memberships.role, role)));
  if (!m) return;
  if (m.role === "tenant_admin") {
    try {
      await keepsAnAdmin(tx, ctx, m.id);
    } catch (e) {
      if (e instanceof InputError) throw new ScimError(409, undefined, `${email}: ${e.message}`);
      throw e;
    }
  }
  await tx.delete(memberships).where(eq(memberships.id, m.id));
}

/** Ends the sessions of everyone signed in as `email`, or linked to its memberships here. */
async function endSessionsOfEmail(tx: Tx, ctx: ScimContext, email: string) {
  const linked = await tx.select({ id: memberships.userId }).from(memberships).where(and(eq(memberships.tenantId, ctx.tenantId), eq(memberships.email, email)));
  const ids = linked.map((l) => l.id).filter((id): id is string => id !== null);
  const byEmail = await tx.select({ id: users.id }).from(users).where(or(sql`lower(${users.email}) = ${email}`, ids.length ? inArray(users.id, ids) : sql`false`));
  return endSessionsOf(tx, [...new Set(byEmail.map((u) => u.id))]);
}

/** active true → false: the memberships go (kept in suspendedRoles) and the person's sessions end now. */
async function deactivate(tx: Tx, ctx: ScimContext, u: ScimUserRow) {
  const roles = await rolesOf(tx, ctx, u.email);
  const sessions = await endSessionsOfEmail(tx, ctx, u.email);
  for (const r of roles) await withdrawRole(tx, ctx, u.email, r);
  await tx.update(scimUsers).set({ active: false, suspendedRoles: roles, updatedAt: new Date() }).where(eq(scimUsers.id, u.id));
  await audit(tx, ctx, "scim.user.deactivate", u.email, { active: true, roles }, { active: false, roles: [], sessionsEnded: sessions });
}

async function reactivate(tx: Tx, ctx: ScimContext, u: ScimUserRow) {
  const before = await rolesOf(tx, ctx, u.email);
  for (const r of u.suspendedRoles) await grantRole(tx, ctx, u.email, r);
  await tx.update(scimUsers).set({ active: true, suspendedRoles: [], updatedAt: new Date() }).where(eq(scimUsers.id, u.id));
  await audit(tx, ctx, "scim.user.reactivate", u.email, { active: false, roles: before }, { active: true, roles: await rolesOf(tx, ctx, u.email) });
}

/** Sets one user's roles, audited with old and new (while inactive, the roles to give back on reactivation). */
async function setRoles(tx: Tx, ctx: ScimContext, u: ScimUserRow, change: (roles: Set<TenantRole>) => void) {
  if (!u.active) {
    const next = new Set(u.suspendedRoles);
    change(next);
    const roles = TENANT_ROLES.filter((r) => next.has(r));
    if (roles.join() === u.suspendedRoles.join()) return;
    await tx.update(scimUsers).set({ suspendedRoles: roles, updatedAt: new Date() }).where(eq(scimUsers.id, u.id));
    await audit(tx, ctx, "scim.user.roles", u.email, { active: false, roles: u.suspendedRoles }, { active: false, roles });
    return;
  }
  const before = await rolesOf(tx, ctx, u.email);
  const next = new Set(before);
  change(next);
  if (TENANT_ROLES.every((r) => next.has(r) === before.includes(r))) return;
  for (const r of TENANT_ROLES) {
    if (next.has(r) && !before.includes(r)) await grantRole(tx, ctx, u.email, r);
    if (!next.has(r) && before.includes(r)) await withdrawRole(tx, ctx, u.email, r);
  }
  await tx.update(scimUsers).set({ updatedAt: new Date() }).where(eq(scimUsers.id, u.id));
  await audit(tx, ctx, "scim.user.roles", u.email, { roles: before }, { roles: await rolesOf(tx, ctx, u.email) });
}

// ——— Users ———

export async function createUser(tx: Tx, ctx: ScimContext, body: unknown) {
  const d = parse(UserBody, body);
  await lockAdmins(tx, ctx.tenantId);
  const [u] = await tx
    .insert(scimUsers)
    .values({ tenantId: ctx.tenantId, email: d.userName, externalId: d.externalId ?? null, displayName: d.displayName ?? d.name?.formatted ?? null, active: true })
    .onConflictDoNothing()
    .returning();
  if (!u) throw new ScimError(409, "uniqueness", `${d.userName} is already provisioned in this tenant.`);
  // A person a tenant admin invited before keeps their roles (the IdP takes them over); anyone else gets the token's default role.
  const existing = await rolesOf(tx, ctx, u.email);
  if (existing.length === 0 && ctx.token.defaultRole) await grantRole(tx, ctx, u.email, ctx.token.defaultRole);
  const roles = await rolesOf(tx, ctx, u.email);
  await audit(tx, ctx, "scim.user.create", u.email, existing.length ? { roles: existing } : null, { email: u.email, externalId: u.externalId, active: true, roles });
  if (d.active === false) await deactivate(tx, ctx, u);
  return getUser(tx, ctx, u.id);
}

async function applyAttributes(tx: Tx, ctx: ScimContext, u: ScimUserRow, attrs: { userName?: string; externalId?: string | null; displayName?: string | null; active?: boolean }) {
  if (attrs.userName !== undefined && attrs.userName !== u.email) {
    throw new ScimError(400, "mutability", "userName (the e-mail the roles are granted to) cannot change: deprovision this user and provision the new e-mail.");
  }
  const changes: Partial<ScimUserRow> = {};
  if (attrs.externalId !== undefined && attrs.externalId !== u.externalId) changes.externalId = attrs.externalId;
  if (attrs.displayName !== undefined && attrs.displayName !== u.displayName) changes.displayName = attrs.displayName;
  if (Object.keys(changes).length) {
    await tx.update(scimUsers).set({ ...changes, updatedAt: new Date() }).where(eq(scimUsers.id, u.id));
    await audit(tx, ctx, "scim.user.update", u.email, { externalId: u.externalId, displayName: u.displayName }, { externalId: changes.externalId ?? u.externalId, displayName: changes.displayName ?? u.displayName });
  }
  if (attrs.active === false && u.active) await deactivate(tx, ctx, u);
  if (attrs.active === true && !u.active) await reactivate(tx, ctx, (await findUser(tx, ctx, u.id))!);
}

export async function replaceUser(tx: Tx, ctx: ScimContext, id: string, body: unknown) {
  const d = parse(UserBody, body);
  await lockAdmins(tx, ctx.tenantId);
  const u = await findUser(tx, ctx, id, true);
  await applyAttributes(tx, ctx, u, { userName: d.userName, externalId: d.externalId ?? null, displayName: d.displayName ?? d.name?.formatted ?? null, active: d.active ?? true });
  return getUser(tx, ctx, id);
}

const UserPatchValue = z.looseObject({ userName: Email.optional(), externalId: z.string().nullable().optional(), displayName: z.string().nullable().optional(), active: Bool.optional() });

export async function patchUser(tx: Tx, ctx: ScimContext, id: string, body: unknown) {
  const d = parse(PatchBody, body);
  await lockAdmins(tx, ctx.tenantId);
  const u = await findUser(tx, ctx, id, true);
  const attrs: z.output<typeof UserPatchValue> = {};
  for (const op of d.Operations) {
    const path = op.path?.trim();
    if (!path) {
      if (op.op === "remove") throw new ScimError(400, "noTarget", "remove needs a path.");
      Object.assign(attrs, parse(UserPatchValue, op.value));
      continue;
    }
    const key = (["active", "userName", "externalId", "displayName"] as const).find((k) => k.toLowerCase() === path.toLowerCase());
    // Attributes this console does not keep (name.givenName, title, emails[type eq "work"].value, …) are accepted and ignored.
    if (!key) continue;
    if (op.op === "remove") {
      if (key === "active" || key === "userName") throw new ScimError(400, "mutability", `${key} cannot be removed.`);
      attrs[key] = null;
    } else Object.assign(attrs, parse(UserPatchValue, { [key]: op.value }));
  }
  await applyAttributes(tx, ctx, u, attrs);
  return getUser(tx, ctx, id);
}

export async function deleteUser(tx: Tx, ctx: ScimContext, id: string) {
  await lockAdmins(tx, ctx.tenantId);
  const u = await findUser(tx, ctx, id, true);
  const roles = await rolesOf(tx, ctx, u.email);
  const sessions = await endSessionsOfEmail(tx, ctx, u.email);
  for (const r of roles) await withdrawRole(tx, ctx, u.email, r);
  await tx.delete(scimUsers).where(eq(scimUsers.id, u.id));
  await audit(tx, ctx, "scim.user.delete", u.email, { active: u.active, roles: u.active ? roles : u.suspendedRoles }, { roles: [], sessionsEnded: sessions });
}

// ——— Groups: the four roles ———

function findRole(id: string): TenantRole {
  const r = Role.safeParse(id);
  if (!r.success) throw new ScimError(404, undefined, `No group ${id}: the groups are ${TENANT_ROLES.join(", ")}.`);
  return r.data;
}

async function groupResource(tx: Tx, ctx: ScimContext, role: TenantRole, withMembers = true) {
  const members = withMembers
    ? await tx
        .select({ id: scimUsers.id, email: scimUsers.email })
        .from(scimUsers)
        .innerJoin(memberships, and(eq(memberships.tenantId, scimUsers.tenantId), eq(memberships.email, scimUsers.email)))
        .where(and(eq(scimUsers.tenantId, ctx.tenantId), eq(memberships.role, role)))
        .orderBy(asc(scimUsers.email))
    : [];
  return {
    schemas: [SCHEMA.group],
    id: role,
    displayName: role,
    ...(withMembers ? { members: members.map((m) => ({ value: m.id, display: m.email, $ref: `${ctx.base}/Users/${m.id}` })) } : {}),
    meta: { resourceType: "Group", location: `${ctx.base}/Groups/${role}` },
  };
}

export async function getGroup(tx: Tx, ctx: ScimContext, id: string, url?: URL) {
  return groupResource(tx, ctx, findRole(id), !/\bmembers\b/.test(url?.searchParams.get("excludedAttributes") ?? ""));
}

export async function listGroups(tx: Tx, ctx: ScimContext, url: URL) {
  const f = parseFilter(url.searchParams.get("filter"), { displayName: "role", id: "role" });
  const roles = TENANT_ROLES.filter((r) => !f || r === f.value);
  const withMembers = !/\bmembers\b/.test(url.searchParams.get("excludedAttributes") ?? "");
  const { startIndex, count } = paging(url);
  const page = roles.slice(startIndex - 1, startIndex - 1 + count);
  const resources = [];
  for (const r of page) resources.push(await groupResource(tx, ctx, r, withMembers));
  return listResponse(resources, roles.length, startIndex);
}

/** PATCH /Groups/{role}: add, remove or replace members; each user's role change is audited with old and new roles. */
export async function patchGroup(tx: Tx, ctx: ScimContext, id: string, body: unknown) {
  const role = findRole(id);
  const d = parse(PatchBody, body);
  await lockAdmins(tx, ctx.tenantId);
  const user = async (userId: string) => {
    try {
      return await findUser(tx, ctx, userId, true);
    } catch (e) {
      if (e instanceof ScimError) throw new ScimError(400, "invalidValue", `No user ${userId} in this tenant.`);
      throw e;
    }
  };
  for (const op of d.Operations) {
    const path = op.path?.trim() ?? "";
    const filtered = /^members\[\s*value\s+eq\s+"([^"]+)"\s*\]$/i.exec(path);
    if (path === "" && op.op !== "remove") {
      const v = parse(z.looseObject({ displayName: z.string().optional(), members: MemberRefs.optional() }), op.value);
      if (v.displayName !== undefined && v.displayName !== role) throw new ScimError(400, "mutability", "A group's displayName is its role and cannot change.");
      if (v.members) await changeMembers(op.op === "replace" ? "replace" : "add", v.members.map((m) => m.value));
    } else if (/^displayName$/i.test(path)) {
      if (op.value !== role) throw new ScimError(400, "mutability", "A group's displayName is its role and cannot change.");
    } else if (/^members$/i.test(path)) {
      const refs = op.value === undefined ? undefined : parse(MemberRefs, op.value).map((m) => m.value);
      if (op.op === "remove") await changeMembers("remove", refs ?? "all");
      else await changeMembers(op.op, refs ?? []);
    } else if (filtered && op.op === "remove") {
      await changeMembers("remove", [filtered[1]!]);
    } else throw new ScimError(400, "invalidPath", `Unsupported path ${path || "(none)"} for ${op.op} on a group.`);
  }
  return groupResource(tx, ctx, role);

  async function changeMembers(kind: "add" | "remove" | "replace", refs: string[] | "all") {
    const current = (await groupResource(tx, ctx, role)).members!.map((m) => m.value);
    const suspended = await tx.select({ id: scimUsers.id }).from(scimUsers).where(and(eq(scimUsers.tenantId, ctx.tenantId), sql`${role} = any(${scimUsers.suspendedRoles})`));
    const inGroup = new Set([...current, ...suspended.map((s) => s.id)]);
    const targets = refs === "all" ? [...inGroup] : refs;
    if (kind === "replace") {
      for (const uid of inGroup) if (!targets.includes(uid)) await setRoles(tx, ctx, await user(uid), (s) => void s.delete(role));
      for (const uid of targets) await setRoles(tx, ctx, await user(uid), (s) => void s.add(role));
      return;
    }
    for (const uid of targets) await setRoles(tx, ctx, await user(uid), (s) => void (kind === "add" ? s.add(role) : s.delete(role)));
  }
}
