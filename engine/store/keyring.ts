import { eq } from "drizzle-orm";
import type { EngineDb } from "./db";
import { newDataKey, unwrapKey, wrapKey } from "./encryption";
import { offboardedTenants, tenantKeys } from "./schema";

/**
 * Per-tenant data keys: created on first use, stored wrapped, kept unwrapped in memory only. An offboarded tenant's
 * key was destroyed and is never made again.
 */
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

  /** Drops a destroyed key from memory (offboarding). */
  forget(slug: string) {
    this.cache.delete(slug);
  }

  private async load(slug: string) {
    const [gone] = await this.db.select({ slug: offboardedTenants.slug }).from(offboardedTenants).where(eq(offboardedTenants.slug, slug));
    if (gone) throw new Error(`tenant ${slug} was offboarded: its data key is destroyed`);
    await this.db
      .insert(tenantKeys)
      .values({ slug, wrappedKey: wrapKey(this.masterKey, slug, newDataKey()) })
      .onConflictDoNothing();
    const [row] = await this.db.select().from(tenantKeys).where(eq(tenantKeys.slug, slug));
    return unwrapKey(this.masterKey, slug, row!.wrappedKey);
  }
}
