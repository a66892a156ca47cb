// A real PostgreSQL for a benchmark: DATABASE_URL (a role that may create databases) or an embedded one, with
// the console and engine databases and roles created under a random prefix; `drop` removes all of it.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { bootstrapDatabases, dropDatabases, startEmbeddedPostgres } from "../../scripts/lib/postgres";
import { freePort } from "../../scripts/lib/ports";

export async function benchDatabases() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-pg-"));
  const embedded = process.env.DATABASE_URL ? null : await startEmbeddedPostgres({ dir: path.join(dir, "pg"), port: await freePort(), persistent: false });
  const adminUrl = process.env.DATABASE_URL ?? embedded!.adminUrl;
  const prefix = `bench${randomBytes(3).toString("hex")}`;
  const secret = () => randomBytes(8).toString("hex");
  const urls = await bootstrapDatabases(adminUrl, { prefix, passwords: { consoleOwner: secret(), consoleApp: secret(), engine: secret() } });
  return {
    ...urls,
    adminUrl,
    /** a scratch directory beside the databases (CA files, blobs), removed by `drop` */
    dir,
    async drop() {
      await dropDatabases(adminUrl, prefix);
      await embedded?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
