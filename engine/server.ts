import { serve } from "@hono/node-server";
import { randomUUID } from "node:crypto";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import type { MigrationHooks } from "./migration/pipeline";
import { MigrationRunners } from "./migration/runners";
import { buildAdminApi } from "./api/app";
import type { EngineConfig } from "./config";
import { createDicomServer } from "./dicom/scp";
import { expireDue, liveSegments, recoverUndurableResults } from "./relay/hold-queue";
import { createIngest, recoverUnrecorded } from "./relay/ingest";
import { createHoldQueueWriter } from "./relay/hold-queue-writer";
import { routeCalledAe } from "./relay/routing";
import { BlobStore } from "./store/blob-store";
import { connectEngineDb, migrateEngineDatabase } from "./store/db";
import { parseMasterKey } from "./store/encryption";
import { Keyring } from "./store/keyring";
import { createRouterHealth } from "./relay/router-health";
import { loadCertificateAuthority } from "./relay/ca-store";
import { createGateway } from "./relay/gateway";
import { createMetrics } from "./metrics";
import { results } from "./store/schema";
import { LicenceGate } from "./licence/gate";
import { VENDOR_LICENCE_PUBLIC_KEY } from "./licence/vendor-key";
import { and, eq } from "drizzle-orm";

const LICENCE_CHECK_MS = 86_400_000;

export type Clock = { now: () => Date };
export const systemClock: Clock = { now: () => new Date() };

/**
 * Migrates the engine database and starts the admin API, the DICOM endpoint and the TTL purger.
 * Port 0 for the admin API picks a free port (tests); the DICOM port must be given.
 */
export async function startEngine(
  config: EngineConfig,
  log: (m: string) => void = (m) => console.log(`[engine] ${m}`),
  clock: Clock = systemClock,
  hooks: { migration?: MigrationHooks } = {},
) {
  await migrateEngineDatabase(config.ENGINE_DATABASE_URL);
  const { db, close: closeDb } = connectEngineDb(config.ENGINE_DATABASE_URL);
  const blobs = new BlobStore(path.resolve(config.ENGINE_BLOB_DIR), log);
  const keyring = new Keyring(db, parseMasterKey(config.ENGINE_MASTER_KEY));

  const masterKey = parseMasterKey(config.ENGINE_MASTER_KEY);
  // Results whose row committed while their blob was being fsynced when the engine stopped: settled before routers
  // can connect or vendors send (recoverUndurableResults).
  const recovered = await recoverUndurableResults(db, blobs, keyring, clock.now());
  if (recovered.kept || recovered.purged || recovered.restored || recovered.missing)
    log(`start-up blob check: ${recovered.kept} completed, ${recovered.purged} purged (bytes not durable), ${recovered.restored} replaced version(s) restored, ${recovered.missing} with no blob at all (left as they are)`);
  // One group commit for every hold-queue write on the ingest path (received instances, notified marks).
  const holdQueue = createHoldQueueWriter(db);
  // And the other way round: confirmed small instances whose row had not committed yet.
  const unrecorded = await recoverUnrecorded(db, blobs, keyring, holdQueue, clock.now(), log);
  if (unrecorded.recorded || unrecorded.dropped) log(`start-up blob check: ${unrecorded.recorded} confirmed result(s) recorded, ${unrecorded.dropped} unwanted blob(s) deleted`);
  const swept = await blobs.sweepStalePartials(clock.now().getTime(), unrecorded.keepOpen);
  if (swept) log(`start-up blob check: removed ${swept} stale temporary file(s)`);

  // Checked before migrations resume or vendors connect; an unusable licence refuses new work, it does not stop
  // the engine, so results already held still reach routers.
  const licence = new LicenceGate({
    mode: config.ENGINE_MODE,
    file: config.ENGINE_LICENCE_FILE,
    trustedKey: config.ENGINE_LICENCE_PUBLIC_KEY ?? VENDOR_LICENCE_PUBLIC_KEY,
    deploymentId: config.ENGINE_DEPLOYMENT_ID,
    db,
    now: () => clock.now(),
    log,
  });
  await licence.check();

  const ca = await loadCertificateAuthority(config, db, masterKey);
  const hostnames = config.ENGINE_GATEWAY_HOSTNAMES.split(",").map((h) => h.trim()).filter(Boolean);
  const certDays = config.ENGINE_GATEWAY_CERT_LIFETIME_SECONDS / 86_400;
  const serverCert = await ca.issueServer(hostnames, certDays);
  const metrics = createMetrics();
  const delivery = {
    page: config.ENGINE_RELAY_NOTIFY_PAGE,
    window: config.ENGINE_RELAY_NOTIFY_WINDOW,
    retry: { firstMs: config.ENGINE_RELAY_RETRY_FIRST_MS, maxMs: config.ENGINE_RELAY_RETRY_MAX_MS, failingAfter: config.ENGINE_RELAY_FAILING_AFTER },
  };
  const health = createRouterHealth({ db, now: () => clock.now(), log });
  const gateway = createGateway({ db, blobs, keyring, ca, health, log, clock, metrics, holdQueue, delivery, tls: { certPem: serverCert.certPem, keyPem: serverCert.keyPem, caPem: ca.certPem } });
  const gatewayPort = await gateway.listen(config.ENGINE_GATEWAY_PORT, config.ENGINE_GATEWAY_HOST);
  // Renewed after two thirds of its lifetime (a failed renewal is retried every minute until it works).
  let certRenewal: NodeJS.Timeout;
  const renewServerCertificate = (afterMs: number) => {
    certRenewal = setTimeout(async () => {
      try {
        const renewed = await ca.issueServer(hostnames, certDays);
        gateway.setServerCertificate(renewed);
        log(`router gateway: server certificate renewed, valid until ${renewed.notAfter.toISOString()}`);
        renewServerCertificate((config.ENGINE_GATEWAY_CERT_LIFETIME_SECONDS * 1000 * 2) / 3);
      } catch (e) {
        log(`router gateway: server certificate renewal failed, retrying in a minute: ${e instanceof Error ? e.message : e}`);
        renewServerCertificate(60_000);
      }
    }, afterMs);
    certRenewal.unref();
  };
  renewServerCertificate((config.ENGINE_GATEWAY_CERT_LIFETIME_SECONDS * 1000 * 2) / 3);
  const gatewayUrl = config.ENGINE_GATEWAY_PUBLIC_URL ?? `wss://${hostnames[0] ?? "localhost"}:${gatewayPort}`;
  log(`router gateway (mTLS WebSocket) listening on port ${gatewayPort}, ${config.ENGINE_MODE} mode`);

  const purge = async () => {
    const n = await expireDue(db, clock.now(), (slug, blobId) => blobs.delete(slug, blobId));
    metrics.expired.inc(n);
    // Segment files whose small blobs have all been acked, expired or purged.
    await blobs.collectSegments((slug) => liveSegments(db, slug));
    return n;
  };
  const migration = {
    // Stable across restarts by default (host and admin port), so a restarted engine takes back its own studies.
    instanceId: config.ENGINE_INSTANCE_ID ?? `${os.hostname()}:${config.ENGINE_ADMIN_PORT || `${process.pid}-${randomUUID().slice(0, 8)}`}`,
    hooks: hooks.migration,
    pseudonymKey: config.ENGINE_PSEUDONYM_KEY ? Buffer.from(config.ENGINE_PSEUDONYM_KEY, "base64") : undefined,
    importRoot: config.ENGINE_IMPORT_ROOT ? path.resolve(config.ENGINE_IMPORT_ROOT) : undefined,
    exportRoot: config.ENGINE_EXPORT_ROOT ? path.resolve(config.ENGINE_EXPORT_ROOT) : undefined,
    moveDestination: config.ENGINE_MOVE_PORT ? { aeTitle: config.ENGINE_MOVE_AE_TITLE, port: config.ENGINE_MOVE_PORT } : undefined,
    // Quarantined studies' instances, for the reviewer's viewer: encrypted with the tenant's key like held results.
    evidence: { blobs, keyring },
  };
  // Hourly checkpoints by the engine's clock: a test advances its own.
  const runners = new MigrationRunners(db, log, migration, { now: () => clock.now() }, async () => licence.refusal("migration") ?? (await licence.limitRefusal("migratedTb")));
  const app = buildAdminApi({
    db,
    token: config.ENGINE_ADMIN_TOKEN,
    log,
    blobs,
    keyring,
    clock,
    relay: { ca, gatewayUrl, sessions: gateway.sessions, disconnect: gateway.disconnect, suspendTenant: gateway.suspendTenant, notify: gateway.notify },
    metrics: metrics.registry,
    onlyTenant: config.ENGINE_MODE === "self-hosted" ? config.ENGINE_SELF_HOSTED_TENANT : undefined,
    migration,
    runners,
    licence,
  });
  // Migrations that were running when the engine stopped carry on; ones other engines run are shared.
  await runners.start();
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: config.ENGINE_ADMIN_HOST, port: config.ENGINE_ADMIN_PORT }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.ENGINE_ADMIN_HOST}:${port}`;
  log(`admin API listening on ${url}`);

  const ingest = createIngest({ db, blobs, holdQueue, metrics, notify: gateway.notify, log, now: () => clock.now() });
  const dicom = createDicomServer({
    route: (calledAe) => routeCalledAe(db, calledAe),
    keyring,
    blobs,
    log,
    onStored: ingest.onStored,
    now: () => clock.now(),
    refusal: () => licence.refusal("relay"),
  });
  await dicom.listen(config.ENGINE_DICOM_PORT);
  log(`DICOM endpoint listening on port ${config.ENGINE_DICOM_PORT}`);

  // Daily: a renewed (or replaced) file takes effect without a restart; expiry itself is judged on every request.
  const licenceCheck = setInterval(() => void licence.check().catch((e) => log(`licence check: ${e instanceof Error ? e.message : e}`)), LICENCE_CHECK_MS);
  const checkRouters = () => health.sweep(config.ENGINE_ROUTER_STALE_SECONDS * 1000);
  const routerCheck = setInterval(
    () => void checkRouters().then((n) => n && log(`${n} router(s) went stale`), (e) => log(`router check: ${e instanceof Error ? e.message : e}`)),
    15_000,
  );
  const purger = setInterval(
    () => void purge().then((n) => n && log(`expired ${n} result(s)`), (e) => log(`purger: ${e instanceof Error ? e.message : e}`)),
    config.ENGINE_PURGE_INTERVAL_SECONDS * 1000,
  );

  return {
    url,
    /** Runs the TTL purger now (tests drive it with their own clock). */
    purge,
    /** Flags routers silent past the stale threshold now (the engine does every 15 s). */
    checkRouters,
    /** Reads the licence file again now (the daily check; tests call it after replacing the file). */
    checkLicence: () => licence.check(),
    /** A held result's decrypted Part 10 bytes. */
    async readResultBytes(slug: string, id: string) {
      const [row] = await db.select().from(results).where(and(eq(results.tenantSlug, slug), eq(results.id, id)));
      if (!row?.blobId) throw new Error(`result ${id} has no stored bytes`);
      return blobs.read(await keyring.dataKey(slug), slug, row.blobId);
    },
    gatewayUrl,
    gatewayPort,
    caCertPem: ca.certPem,
    /** test hook: a certificate from this engine's CA that was never enrolled, or already expired */
    issueUnenrolledRouterCert: (slug: string, days = 30) => ca.issueRouter(slug, days),
    async close() {
      clearInterval(purger);
      clearInterval(routerCheck);
      clearTimeout(certRenewal);
      clearInterval(licenceCheck);
      await runners.stop();
      await gateway.close();
      dicom.close();
      ingest.stop();
      await holdQueue.close();
      await blobs.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeDb();
    },
  };
}
