import { readFile } from "node:fs/promises";
import { eq } from "drizzle-orm";
import type { EngineConfig } from "../config";
import type { EngineDb } from "../store/db";
import { unwrapKey, wrapKey } from "../store/encryption";
import { engineCa } from "../store/schema";
import { CertificateAuthority, createCa } from "./ca";

/**
 * Hosted mode: the CA comes from configuration. Self-hosted mode: the engine creates its own CA at first boot and
 * keeps it in its database, the key wrapped by the master key, so it survives restarts.
 */
export async function loadCertificateAuthority(config: EngineConfig, db: EngineDb, masterKey: Buffer) {
  if (config.ENGINE_MODE === "hosted") {
    return CertificateAuthority.load({
      certPem: await readFile(config.ENGINE_CA_CERT_FILE!, "utf8"),
      keyPem: await readFile(config.ENGINE_CA_KEY_FILE!, "utf8"),
    });
  }
  const [stored] = await db.select().from(engineCa).where(eq(engineCa.id, 1));
  if (stored) {
    return CertificateAuthority.load({ certPem: stored.certPem, keyPem: unwrapKey(masterKey, "engine-ca", stored.wrappedKey).toString("utf8") });
  }
  const created = await createCa(`Imaging relay CA (${config.ENGINE_SELF_HOSTED_TENANT})`);
  await db
    .insert(engineCa)
    .values({ id: 1, certPem: created.certPem, wrappedKey: wrapKey(masterKey, "engine-ca", Buffer.from(created.keyPem)) })
    .onConflictDoNothing();
  return loadCertificateAuthority(config, db, masterKey);
}
