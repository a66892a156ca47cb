// The router gateway: a WebSocket server behind TLS that requires a client certificate from the engine's CA.
// The certificate's CN is the tenant; it must be enrolled and not revoked. A router sees only its tenant's results.
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { and, eq, isNull } from "drizzle-orm";
import { WebSocketServer, type WebSocket } from "ws";
import { CHUNK_BYTES, PROTOCOL_VERSION, RouterMessage, parseFrame, type ServerMessage } from "../router-agent/protocol";
import type { BlobStore } from "../store/blob-store";
import type { EngineDb } from "../store/db";
import type { Keyring } from "../store/keyring";
import { LIVE_STATUSES, routerCerts, tenantConfigs } from "../store/schema";
import { recordNack, type RetryPolicy } from "./delivery-retries";
import { transition, type Result } from "./hold-queue";
import type { HoldQueueWriter } from "./hold-queue-writer";
import { createRouterFeed, type RouterFeed } from "./router-feed";
import { sendPaced } from "./ws-send";
import type { Metrics } from "../metrics";
import { CsrError, type CertificateAuthority } from "./ca";
import { renewRouterCertificate } from "./enrolment";
import { claimForPull, releasePulls } from "./pull-claims";
import type { RouterHealth } from "./router-health";
import { enrolmentEndpoint } from "./enrolment-endpoint";

const HEARTBEAT_SECONDS = 15;
/** Close code for a suspended tenant's routers (PROTOCOL.md): told why first, refused again until reactivated. */
export const TENANT_SUSPENDED_CLOSE = 4004;
const suspendedMessage = (since: Date | string, reason: string) =>
  `tenant suspended since ${typeof since === "string" ? since : since.toISOString()}: ${reason}. New studies are refused; held results are kept. Reconnecting is refused until the tenant is reactivated.`;

export type RouterSession = {
  routerId: string;
  tenant: string;
  /** the called AE titles whose results it is offered (empty: all) */
  calledAeTitles: string[];
  subject: string;
  address: string;
  connectedSince: Date;
  lastHeartbeat: Date;
  lastPullLatencyMs: number | null;
  ws: WebSocket;
  feed: RouterFeed;
};

/** How results are offered to a router: page size, window, and the retry policy for nacks (engine/config.ts). */
export type DeliveryPolicy = { page: number; window: number; retry: RetryPolicy };
export const DEFAULT_DELIVERY: DeliveryPolicy = { page: 500, window: 2000, retry: { firstMs: 5000, maxMs: 300_000, failingAfter: 5 } };

/** Why a router's TLS client certificate is not accepted, in words its operator can act on. */
function certificateRefusal(socket: TLSSocket) {
  const err = String(socket.authorizationError ?? "");
  if (!socket.getPeerCertificate()?.raw) return "no router certificate: enrol the router with a code from the console first";
  if (err === "CERT_HAS_EXPIRED") return "the router certificate has expired: enrol the router again with a new code";
  if (err === "CERT_NOT_YET_VALID") return "the router certificate is not valid yet: check the router's clock";
  return `the router certificate is not from this gateway's CA (${err})`;
}

export function createGateway(deps: {
  db: EngineDb;
  blobs: BlobStore;
  keyring: Keyring;
  tls: { certPem: string; keyPem: string; caPem: string };
  /** issues routers' certificates at enrolment */
  ca: CertificateAuthority;
  health: RouterHealth;
  log: (m: string) => void;
  clock: { now: () => Date };
  metrics: Metrics;
  /** held → notified marks go through the ingest path's group commit */
  holdQueue: HoldQueueWriter;
  delivery?: DeliveryPolicy;
}) {
  const delivery = deps.delivery ?? DEFAULT_DELIVERY;
  const sessions = new Map<string, Set<RouterSession>>();
  const send = (ws: WebSocket, m: ServerMessage) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(m));

  const server = https.createServer({
    cert: deps.tls.certPem,
    key: deps.tls.keyPem,
    ca: deps.tls.caPem,
    requestCert: true,
    // A router without a certificate yet may reach POST /enrol; the WebSocket checks the certificate (verifyClient).
    rejectUnauthorized: false,
    minVersion: "TLSv1.2",
  });
  server.on("tlsClientError", (e) => deps.log(`gateway TLS handshake refused: ${e.message}`));
  server.on("request", enrolmentEndpoint({ db: deps.db, ca: deps.ca, now: deps.clock.now, log: deps.log }));
  const wss = new WebSocketServer({
    server,
    maxPayload: 64 * 1024,
    // No certificate, an expired one or another CA's: refused before the WebSocket opens, with the reason.
    verifyClient: ({ req }, done) => {
      const socket = req.socket as TLSSocket;
      if (socket.authorized) return done(true);
      const reason = certificateRefusal(socket);
      deps.log(`gateway: refused a connection from ${socket.remoteAddress}: ${reason}`);
      done(false, 401, reason);
    },
  });

  const isConnected = (routerId: string) => [...sessions.values()].some((set) => [...set].some((s) => s.routerId === routerId));

  /** Results just pushed to a router move held → notified (batched with other hold-queue writes). */
  const markNotified = (rows: Result[], routerId: string) => deps.holdQueue.markNotified(rows, routerId, deps.clock.now());

  wss.on("connection", (ws, req) => {
    // Listen at once: frames that arrive while the certificate is being checked wait for the session.
    let ready!: (s: RouterSession | null) => void;
    const sessionReady = new Promise<RouterSession | null>((r) => (ready = r));
    ws.on("message", (data) =>
      void sessionReady
        .then((s) => s && handle(s, data))
        .catch((e) => send(ws, { type: "error", message: e instanceof Error ? e.message : String(e) })),
    );
    void (async () => {
      const socket = req.socket as TLSSocket;
      const cert = socket.getPeerCertificate();
      const tenant = typeof cert?.subject?.CN === "string" ? cert.subject.CN : "";
      const [enrolled] = await deps.db
        .select()
        .from(routerCerts)
        .where(and(eq(routerCerts.fingerprint256, cert.fingerprint256 ?? ""), isNull(routerCerts.revokedAt)));
      if (!enrolled || enrolled.tenantSlug !== tenant) {
        deps.log(`gateway: refused router ${tenant || "?"} from ${socket.remoteAddress}: certificate not enrolled or revoked`);
        ready(null);
        return ws.close(4003, "certificate not enrolled or revoked");
      }
      const feed = createRouterFeed({
        db: deps.db,
        tenant,
        calledAeTitles: enrolled.calledAeTitles,
        page: delivery.page,
        window: delivery.window,
        now: deps.clock.now,
        send: (m) => sendPaced(ws, m),
        markNotified: (rows) => void markNotified(rows, enrolled.id).catch((e) => deps.log(`gateway: notified marks failed: ${e instanceof Error ? e.message : e}`)),
        log: deps.log,
      });
      const session: RouterSession = {
        feed,
        routerId: enrolled.id,
        tenant,
        calledAeTitles: enrolled.calledAeTitles,
        subject: `CN=${tenant}`,
        address: `${socket.remoteAddress}:${socket.remotePort}`,
        connectedSince: deps.clock.now(),
        lastHeartbeat: deps.clock.now(),
        lastPullLatencyMs: null,
        ws,
      };
      // A router that went away while its certificate was being checked has already closed: never list it.
      if (ws.readyState !== ws.OPEN) return ready(null);
      const set = sessions.get(tenant) ?? new Set();
      set.add(session);
      sessions.set(tenant, set);
      ws.on("close", () => {
        set.delete(session);
        feed.close();
        deps.health.disconnected(enrolled.id);
        // What it was pulling goes to the tenant's other routers (the same router, reconnecting, gets it too).
        if (!isConnected(enrolled.id))
          void releasePulls(deps.db, tenant, enrolled.id, deps.clock.now())
            .then((rows) => Promise.all(rows.flatMap((r) => [...set].map((o) => o.feed.push(r, true)))))
            .catch((e) => deps.log(`gateway: releasing ${enrolled.name}'s pulls failed: ${e instanceof Error ? e.message : e}`));
      });
      // Checked once the session is listed, so a suspension applied meanwhile either sees it or is seen here.
      const [config] = await deps.db
        .select({ suspendedAt: tenantConfigs.suspendedAt, reason: tenantConfigs.suspensionReason })
        .from(tenantConfigs)
        .where(eq(tenantConfigs.slug, tenant));
      if (config?.suspendedAt) {
        deps.log(`gateway: refused router ${enrolled.name} (${tenant}) from ${socket.remoteAddress}: tenant suspended`);
        ready(null);
        send(ws, { type: "error", message: suspendedMessage(config.suspendedAt, config.reason ?? "") });
        return ws.close(TENANT_SUSPENDED_CLOSE, "tenant suspended");
      }
      deps.log(`gateway: router ${enrolled.name} (${tenant}) connected from ${session.address}`);
      deps.health.connected(enrolled.id, session.address);

      send(ws, { type: "hello", protocol: PROTOCOL_VERSION, tenant, routerId: enrolled.id, heartbeatSeconds: HEARTBEAT_SECONDS, window: delivery.window });
      // On connect: everything still pending for this tenant, including results a previous connection was pulling,
      // a page at a time as the router works through them (router-feed.ts).
      ready(session);
      void feed.start();
    })().catch((e) => {
      ready(null);
      deps.log(`gateway: connection setup failed: ${e instanceof Error ? e.message : e}`);
      ws.close(1011, "internal error");
    });
  });

  async function handle(s: RouterSession, data: unknown) {
    const parsed = parseFrame(RouterMessage, data);
    if (!parsed.ok) return send(s.ws, { type: "error", message: parsed.error });
    const m = parsed.message;
    const where = { tenantSlug: s.tenant, id: "id" in m ? m.id : "" };
    switch (m.type) {
      case "heartbeat":
        s.lastHeartbeat = deps.clock.now();
        deps.health.heartbeat(s.routerId);
        return send(s.ws, { type: "heartbeat-ack" });
      case "renew": {
        // Over the connection its current certificate authenticated: the same router, a new key.
        try {
          const renewed = await renewRouterCertificate(deps.db, deps.ca, s.tenant, s.routerId, m.csr);
          if (!renewed) return send(s.ws, { type: "renew-failed", message: "this router is revoked" });
          deps.log(`gateway: router ${s.routerId} (${s.tenant}) renewed its certificate, valid until ${renewed.notAfter}`);
          return send(s.ws, { type: "renewed", certificatePem: renewed.certificatePem, notAfter: renewed.notAfter });
        } catch (e) {
          if (e instanceof CsrError) return send(s.ws, { type: "renew-failed", message: e.message });
          throw e;
        }
      }
      case "pull": {
        const started = Date.now();
        // The notified mark of a result pushed a moment ago may still be waiting for its batch: write it first, so
        // the timeline reads notified → pulled.
        await deps.holdQueue.settle();
        const moved = await claimForPull(deps.db, where, s.routerId, isConnected, deps.clock.now(), s.calledAeTitles);
        if (moved === "taken") {
          s.feed.release(m.id);
          return send(s.ws, { type: "pull-failed", id: m.id, message: "another router of this tenant is pulling it" });
        }
        if (!moved?.result.blobId) {
          s.feed.release(m.id);
          return send(s.ws, { type: "pull-failed", id: m.id, message: "no such pending result for this tenant" });
        }
        deps.metrics.pulled.inc({ tenant: s.tenant });
        const stream = await deps.blobs.reader(await deps.keyring.dataKey(s.tenant), s.tenant, moved.result.blobId).catch((e: unknown) => {
          // Its bytes cannot be read now: refused, so its place in the window is not held for ever (it stays
          // pulled, and the next connection offers it again).
          deps.log(`gateway: result ${m.id} (${s.tenant}) could not be read: ${e instanceof Error ? e.message : e}`);
          return null;
        });
        if (!stream) {
          s.feed.release(m.id);
          return send(s.ws, { type: "pull-failed", id: m.id, message: "the result's bytes could not be read; it is offered again on the next connection" });
        }
        let offset = 0;
        let carry = Buffer.alloc(0);
        try {
          // Each chunk waits for the socket to drain below its threshold: the blob is read as fast as the link goes.
          for await (const chunk of stream) {
            carry = Buffer.concat([carry, chunk as Buffer]);
            while (carry.length >= CHUNK_BYTES) {
              await sendPaced(s.ws, { type: "chunk", id: m.id, offset, data: carry.subarray(0, CHUNK_BYTES).toString("base64"), last: false });
              offset += CHUNK_BYTES;
              carry = carry.subarray(CHUNK_BYTES);
            }
          }
          await sendPaced(s.ws, { type: "chunk", id: m.id, offset, data: carry.toString("base64"), last: true });
        } catch {
          stream.destroy(); // the router went away mid-pull: it is offered again on its next connection
          return;
        }
        s.lastPullLatencyMs = Date.now() - started;
        deps.health.pulled(s.routerId, s.lastPullLatencyMs);
        return;
      }
      case "ack": {
        const acked = await transition(deps.db, where, ["pulled"], "acked", { routerId: s.routerId }, { dropBlob: true, now: deps.clock.now(), clearDeliveryFailure: true });
        s.feed.release(m.id);
        if (!acked) return send(s.ws, { type: "ack-ignored", id: m.id, message: "not a result this router is pulling (already acked, purged or unknown)" });
        if (acked.blobId) await deps.blobs.delete(s.tenant, acked.blobId);
        deps.metrics.acked.inc({ tenant: s.tenant });
        return send(s.ws, { type: "acked", id: m.id });
      }
      case "nack": {
        const nacked = await recordNack(deps.db, where, { routerId: s.routerId, reason: m.reason }, delivery.retry, deps.clock.now());
        // Not being pulled any more (acked by another connection, purged, replaced): nothing to retry here.
        if (!nacked) return s.feed.release(m.id);
        if (nacked.flagged)
          deps.log(`gateway: result ${m.id} (${s.tenant}) is failing delivery after ${nacked.result.deliveryAttempts} attempts: ${m.reason}`);
        // Offered again on this connection once its backoff ends.
        s.feed.retryIn(m.id, nacked.delayMs);
        return;
      }
    }
  }

  return {
    /**
     * Pushes a result to the tenant's connected routers; returns how many routers were told. The ingest path
     * passes `storedAt` (ms, for notify latency); a call without it is the console re-notifying, which offers the
     * result again even to a router it is already offered to.
     */
    async notify(result: Result, storedAt?: number) {
      const set = sessions.get(result.tenantSlug);
      if (!set?.size) return 0;
      await Promise.all([...set].map((s) => s.feed.push(result, storedAt === undefined).catch(() => {})));
      if (storedAt !== undefined) deps.metrics.notifyLatency.observe((performance.now() - storedAt) / 1000);
      return set.size;
    },
    sessions: (tenant: string) => [...(sessions.get(tenant) ?? [])],
    /** Ends the connections of a revoked router at once. */
    disconnect(routerId: string) {
      for (const set of sessions.values()) for (const s of set) if (s.routerId === routerId) s.ws.close(4003, "certificate revoked");
    },
    /** A suspended tenant's routers are told why and disconnected (reconnecting is refused while it stays so). */
    suspendTenant(tenant: string, suspension: { since: string; reason: string }) {
      const set = sessions.get(tenant);
      if (!set?.size) return 0;
      const n = set.size;
      for (const s of set) {
        send(s.ws, { type: "error", message: suspendedMessage(suspension.since, suspension.reason) });
        s.ws.close(TENANT_SUSPENDED_CLOSE, "tenant suspended");
      }
      deps.log(`gateway: disconnected ${n} router(s) of suspended tenant ${tenant}`);
      return n;
    },
    /** Serves new connections with a renewed server certificate; connections already open keep theirs. */
    setServerCertificate(c: { certPem: string; keyPem: string }) {
      server.setSecureContext({ cert: c.certPem, key: c.keyPem, ca: deps.tls.caPem, minVersion: "TLSv1.2" });
    },
    listen: (port: number, host = "0.0.0.0") =>
      new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
      }),
  };
}

