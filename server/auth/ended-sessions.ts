import "server-only";
import { eq, inArray, lt, sql } from "drizzle-orm";
import { endedSessions, users } from "@/db/schema";
import { db, type Tx } from "../db";

/** How long a console session lasts at most (the session cookie's maximum age). */
export const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;

/**
 * Records that a session was ended by signing out, in the caller's transaction (beside its audit entry). Rows for
 * sessions that would have expired by now are removed on the way: they can no longer come back anyway.
 */
export async function markSessionEnded(tx: Tx, s: { sid: string; userId: string }, now = new Date()) {
  await tx.delete(endedSessions).where(lt(endedSessions.expiresAt, now));
  await tx
    .insert(endedSessions)
    .values({ sid: s.sid, userId: s.userId, endedAt: now, expiresAt: new Date(now.getTime() + SESSION_MAX_AGE_SECONDS * 1000) })
    .onConflictDoNothing();
}

/** Whether the session was ended by signing out (checked on every request that reads the session). */
export async function isSessionEnded(sid: string) {
  const [row] = await db().select({ sid: endedSessions.sid }).from(endedSessions).where(eq(endedSessions.sid, sid)).limit(1);
  return row !== undefined;
}

/**
 * Ends every session of these people at once, in the caller's transaction: a session that began at or before `now`
 * is refused on its next request (sessionRefused). Used when the identity provider deprovisions a person.
 */
export async function endSessionsOf(tx: Tx, userIds: string[], now = new Date()) {
  if (userIds.length === 0) return 0;
  const rows = await tx.update(users).set({ sessionsRevokedAt: now }).where(inArray(users.id, userIds)).returning({ id: users.id });
  return rows.length;
}

/**
 * Whether a session may no longer be used: ended by signing out, or begun (`startedAt`, ms) at or before the
 * person's sessions were all ended. One round trip; checked on every request that reads the session.
 */
export async function sessionRefused(s: { sid: string; userId: string; startedAt: number }) {
  const [row] = await db().execute<{ ended: boolean; revoked: string | null }>(sql`
    select exists (select 1 from ended_sessions where sid = ${s.sid}) as ended,
      (select to_char(sessions_revoked_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') from users where id = ${s.userId}) as revoked`);
  if (!row) return true;
  if (row.ended) return true;
  return row.revoked !== null && s.startedAt <= Date.parse(row.revoked);
}

/**
 * The check run on every request that reads the session (the jwt callback in ./index.ts): not ended by signing out, and
 * begun after the person's sessions were last ended. A token from before `startedAt` existed counts from its
 * authentication time.
 */
export async function sessionStillValid(token: Record<string, unknown>) {
  if (typeof token.sid !== "string" || typeof token.uid !== "string") return false;
  const startedAt = typeof token.startedAt === "number" ? token.startedAt : Number(token.authTime ?? 0) * 1000;
  return !(await sessionRefused({ sid: token.sid, userId: token.uid, startedAt }));
}
