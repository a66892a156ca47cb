import "server-only";
import { eq, lt } from "drizzle-orm";
import { endedSessions } from "@/db/schema";
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
