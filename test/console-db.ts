// A migrated console database for one test file, with DATABASE_URL pointing the server code at it
// as the application role (the role RLS applies to).
import { randomBytes } from "node:crypto";
import { migrateConsoleDatabase } from "../db/migrate";
import { createTestDatabases } from "./databases";

export async function useConsoleDatabase() {
  const dbs = await createTestDatabases();
  await migrateConsoleDatabase(dbs.consoleOwnerUrl, decodeURIComponent(new URL(dbs.consoleAppUrl).username));
  process.env.DATABASE_URL = dbs.consoleAppUrl;
  // Audit checkpoints are signed; each test run signs with a key of its own.
  process.env.AUDIT_SIGNING_KEY ??= randomBytes(32).toString("base64");
  return dbs;
}
