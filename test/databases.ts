// Each test file gets its own console and engine databases (and roles) on the run's server, and drops them.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { bootstrapDatabases, dropDatabases, type DatabaseUrls } from "../scripts/lib/postgres";

export async function createTestDatabases(): Promise<DatabaseUrls & { adminUrl: string; drop: () => Promise<void> }> {
  const adminUrl = inject("pgAdminUrl");
  const prefix = `t${randomBytes(5).toString("hex")}`;
  const pw = () => randomBytes(12).toString("hex");
  const urls = await bootstrapDatabases(adminUrl, {
    prefix,
    passwords: { consoleOwner: pw(), consoleApp: pw(), engine: pw() },
  });
  return { ...urls, adminUrl, drop: () => dropDatabases(adminUrl, prefix) };
}
