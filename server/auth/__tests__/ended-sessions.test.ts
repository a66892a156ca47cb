import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endedSessions } from "@/db/schema";
import { useConsoleDatabase } from "../../../test/console-db";
import { closeDb, db } from "../../db";
import { SESSION_MAX_AGE_SECONDS, isSessionEnded, markSessionEnded } from "../ended-sessions";
import { recordSignIn } from "../sign-in";

describe("sessions ended by signing out", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let userId: string;
  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    userId = (await recordSignIn({ iss: "https://idp.example", sub: "ended-1", email: "pat@hospital.test", email_verified: true }, false)).id;
  });
  afterAll(async () => {
    await closeDb();
    await dbs?.drop();
  });

  it("stay ended; another session of the same person does not", async () => {
    const ended = randomUUID();
    const other = randomUUID();
    await db().transaction((tx) => markSessionEnded(tx, { sid: ended, userId }));
    expect(await isSessionEnded(ended)).toBe(true);
    expect(await isSessionEnded(other)).toBe(false);
    // Signing out twice (two tabs) is no error.
    await db().transaction((tx) => markSessionEnded(tx, { sid: ended, userId }));
    expect(await isSessionEnded(ended)).toBe(true);
  });

  it("are forgotten once the session would have expired anyway", async () => {
    const old = randomUUID();
    const t0 = new Date("2026-01-01T08:00:00Z");
    await db().transaction((tx) => markSessionEnded(tx, { sid: old, userId }, t0));
    const later = new Date(t0.getTime() + SESSION_MAX_AGE_SECONDS * 1000 + 1000);
    const fresh = randomUUID();
    await db().transaction((tx) => markSessionEnded(tx, { sid: fresh, userId }, later));
    const sids = (await db().select({ sid: endedSessions.sid }).from(endedSessions)).map((r) => r.sid);
    expect(sids).toContain(fresh);
    expect(sids).not.toContain(old);
  });
});
