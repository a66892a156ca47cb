import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import { createTestDatabases } from "../databases";

describe("test harness", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  beforeAll(async () => {
    dbs = await createTestDatabases();
  });
  afterAll(async () => dbs?.drop());

  it("creates an application role that row-level security applies to", async () => {
    const sql = postgres(dbs.consoleAppUrl, { max: 1 });
    const [r] = await sql`select rolsuper, rolbypassrls from pg_roles where rolname = current_user`;
    await sql.end();
    expect(r).toEqual({ rolsuper: false, rolbypassrls: false });
  });
});
