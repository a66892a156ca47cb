import "server-only";
import { sql } from "drizzle-orm";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "@/db/schema";
import type { TenantContext, UserContext } from "./context";
import { databaseEnv } from "./env";

export type Db = PostgresJsDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

// One pool per process; kept on globalThis so Next's dev reloads don't open a new pool per edit.
const g = globalThis as unknown as { __consoleDb?: { db: Db; client: postgres.Sql } };

function connection() {
  if (!g.__consoleDb) {
    const client = postgres(databaseEnv().DATABASE_URL, { max: 10, onnotice: () => {} });
    g.__consoleDb = { client, db: drizzle(client, { schema }) };
  }
  return g.__consoleDb;
}

export const db = (): Db => connection().db;

export async function closeDb() {
  const c = g.__consoleDb;
  g.__consoleDb = undefined;
  await c?.client.end({ timeout: 5 });
}

/** Transaction-local settings read by the RLS policies (`true` = local to this transaction), in one round trip. */
export async function setLocals(tx: Tx, settings: Record<string, string>) {
  const calls = Object.entries(settings).map(([k, v]) => sql`set_config(${k}, ${v}, true)`);
  await tx.execute(sql`select ${sql.join(calls, sql`, `)}`);
}

/** Runs `fn` in one transaction in which the database sees only `ctx`'s tenant. */
export function withTenant<T>(ctx: Pick<TenantContext, "tenantId" | "actor">, fn: (tx: Tx) => Promise<T>) {
  return db().transaction(async (tx) => {
    await setLocals(tx, { "app.tenant_id": ctx.tenantId, "app.user_id": ctx.actor.userId });
    return fn(tx);
  });
}

/** Runs `fn` as a signed-in person with no tenant selected: they see their own memberships and tenants. */
export function withUser<T>(user: UserContext, fn: (tx: Tx) => Promise<T>) {
  return db().transaction(async (tx) => {
    await setLocals(tx, { "app.user_id": user.userId, "app.user_email": user.email.toLowerCase() });
    return fn(tx);
  });
}

/** System tasks (worker, seed, sign-in bookkeeping): may read the tenants registry, still no tenant data. */
export function withSystem<T>(fn: (tx: Tx) => Promise<T>) {
  return db().transaction(async (tx) => {
    await setLocals(tx, { "app.system": "on" });
    return fn(tx);
  });
}

/** Refuses to run as a role that row-level security would not apply to. */
export async function assertRlsApplies() {
  const rows = await db().execute<{ rolsuper: boolean; rolbypassrls: boolean; current_user: string }>(
    sql`select rolsuper, rolbypassrls, current_user from pg_roles where rolname = current_user`,
  );
  const r = rows[0];
  if (!r || r.rolsuper || r.rolbypassrls) {
    throw new Error(
      `DATABASE_URL connects as "${r?.current_user}", a superuser or BYPASSRLS role: row-level security would not apply. Use the application role.`,
    );
  }
}
