import { eq } from "drizzle-orm";
import type { EngineDb } from "./db";
import { newDataKey, unwrapKey, wrapKey } from "./encryption";
import { tenantKeys } from "./schema";

/** Per-tenant data keys: created on first use, stored wrapped, kept unwrapped in memory only. */
export class Keyring {
  private cache = new Map<string, Promise<Buffer>>();
  constructor(
    private readonly db: EngineDb,
    private readonly masterKey: Buffer,
  ) {}

  dataKey(slug: string): Promise<Buffer> {
    let key = this.cache.get(slug);
    if (!key) {
      key = this.load(slug);
      key.catch(() => this.cache.delete(slug));
      this.cache.set(slug, key);
    }
    return key;
  }

  private async load(slug: string) {
    await this.db
      .insert(tenantKeys)
      .values({ slug, wrappedKey: wrapKey(this.masterKey, slug, newDataKey()) })
      .onConflictDoNothing();
    const [row] = await this.db.select().from(tenantKeys).where(eq(tenantKeys.slug, slug));
    return unwrapKey(this.masterKey, slug, row!.wrappedKey);
  }
}
