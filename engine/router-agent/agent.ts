// The on-prem router agent: connects outbound to the gateway with its certificate, pulls each pending result,
// verifies its SHA-256, forwards it to the local PACS, and acks only after the PACS accepted it. A few results are
// pulled and forwarded at once (`concurrency`); the queue of offered results is bounded by the gateway's window.
import { X509Certificate, createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import path from "node:path";
import WebSocket from "ws";
import { newKeyAndCsr } from "./enrolment";
import { ServerMessage, parseFrame, type Pending, type RouterMessage } from "./protocol";

/** How often a connected agent checks whether its certificate is due for renewal. */
const RENEWAL_CHECK_MS = 3_600_000;

export type AgentOptions = {
  gatewayUrl: string;
  tls: { certPem: string; keyPem: string; caPem: string };
  spoolDir: string;
  /** sends one Part 10 file to the local PACS; throws when the PACS did not accept it */
  forward: (file: string, result: Pending) => Promise<void>;
  log?: (m: string) => void;
  maxBackoffMs?: number;
  /** results pulled and forwarded at the same time (default 4) */
  concurrency?: number;
  /** offered results kept waiting at most (default: the gateway's window, else 10,000); more are refused */
  maxQueue?: number;
  /** a renewed certificate and its new key, to keep (the agent itself uses them from its next connection) */
  onRenewed?: (c: { certPem: string; keyPem: string; notAfter: string }) => void;
  /** renew once less than this share of the certificate's lifetime is left (default a third) */
  renewWhenLeft?: number;
};

type Pull = {
  result: Pending;
  file: string;
  fh: Awaited<ReturnType<typeof open>>;
  hash: ReturnType<typeof createHash>;
  size: number;
  /** chunk writes, in arrival order */
  writes: Promise<unknown>;
};

export function startRouterAgent(opts: AgentOptions) {
  const log = opts.log ?? ((m: string) => console.log(`[router] ${m}`));
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  mkdirSync(opts.spoolDir, { recursive: true });
  let ws: WebSocket | null = null;
  let stopped = false;
  let backoff = 500;
  let heartbeat: NodeJS.Timeout | undefined;
  let maxQueue = opts.maxQueue ?? 10_000;
  // The certificate in use: replaced when the gateway renews it.
  let tls = opts.tls;
  let renewal: { keyPem: string } | null = null;
  let renewalCheck: NodeJS.Timeout | undefined;
  /** Offered, not yet started; keyed by id so an offer repeated (a new version, a retry) replaces the entry. */
  const queue = new Map<string, Pending>();
  /** Being pulled or forwarded: a repeated offer for one of these waits for its ack or nack. */
  const inFlight = new Map<string, Pull | "opening" | "forwarding">();
  const listeners = { forwarded: [] as ((id: string) => void)[], connected: [] as (() => void)[], notified: [] as ((n: number, queued: number) => void)[] };

  const send = (m: RouterMessage) => ws?.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m));

  function connect() {
    if (stopped) return;
    const socket = new WebSocket(opts.gatewayUrl, { cert: tls.certPem, key: tls.keyPem, ca: tls.caPem, maxPayload: 8 << 20 });
    ws = socket;
    socket.on("open", () => {
      backoff = 500;
      log(`connected to ${opts.gatewayUrl}`);
      listeners.connected.forEach((f) => f());
    });
    socket.on("message", (data) => onMessage(data));
    socket.on("error", (e) => log(`connection error: ${e.message}`));
    socket.on("close", (code, reason) => {
      clearInterval(heartbeat);
      clearInterval(renewalCheck);
      renewal = null; // a CSR whose answer is lost: the next connection asks again
      if (ws === socket) ws = null;
      // Everything is offered again on the next connection; what is being forwarded finishes, its ack is lost.
      for (const [id, p] of inFlight) if (typeof p !== "string") void abandon(id, p);
      queue.clear();
      if (stopped) return;
      log(`disconnected (${code} ${reason.toString()}); reconnecting in ${backoff} ms`);
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, opts.maxBackoffMs ?? 30_000);
    });
  }

  async function abandon(id: string, p: Pull) {
    if (inFlight.get(id) === p) inFlight.delete(id);
    await p.writes.catch(() => {});
    await p.fh.close().catch(() => {});
    await rm(p.file, { force: true });
  }

  function onMessage(data: WebSocket.RawData) {
    const parsed = parseFrame(ServerMessage, data);
    if (!parsed.ok) return log(`ignoring ${parsed.error}`);
    const m = parsed.message;
    switch (m.type) {
      case "hello":
        clearInterval(heartbeat);
        heartbeat = setInterval(() => send({ type: "heartbeat" }), m.heartbeatSeconds * 1000);
        if (m.window && opts.maxQueue === undefined) maxQueue = Math.max(m.window, 1);
        clearInterval(renewalCheck);
        renewalCheck = setInterval(() => void renewIfDue().catch(() => {}), RENEWAL_CHECK_MS);
        void renewIfDue().catch((e) => log(`certificate renewal: ${e instanceof Error ? e.message : e}`));
        return;
      case "notify": {
        for (const r of m.results) {
          if (inFlight.has(r.id)) continue;
          if (!queue.has(r.id) && queue.size >= maxQueue) {
            // The gateway keeps to its window, so this means a misbehaving peer: refuse rather than grow.
            log(`queue full (${maxQueue}): ${r.id} is left for a later offer`);
            continue;
          }
          queue.set(r.id, r);
        }
        listeners.notified.forEach((f) => f(m.results.length, queue.size));
        return pump();
      }
      case "chunk": {
        const p = inFlight.get(m.id);
        if (!p || typeof p === "string") return;
        // Hashed in arrival order (chunks come in order); written at their offsets one after another.
        const bytes = Buffer.from(m.data, "base64");
        p.hash.update(bytes);
        p.size += bytes.length;
        p.writes = p.writes.then(() => p.fh.write(bytes, 0, bytes.length, m.offset));
        if (m.last) void finishPull(p).catch((e) => log(`error: ${e instanceof Error ? e.message : e}`));
        return;
      }
      case "pull-failed": {
        log(`pull of ${m.id} failed: ${m.message}`);
        const p = inFlight.get(m.id);
        if (p && typeof p !== "string") void abandon(m.id, p).then(pump);
        return;
      }
      case "renewed": {
        if (!renewal) return;
        tls = { ...tls, certPem: m.certificatePem, keyPem: renewal.keyPem };
        renewal = null;
        log(`certificate renewed, valid until ${m.notAfter}`);
        opts.onRenewed?.({ certPem: tls.certPem, keyPem: tls.keyPem, notAfter: m.notAfter });
        return;
      }
      case "renew-failed":
        renewal = null;
        return log(`certificate renewal refused: ${m.message}; trying again later`);
      case "error":
        return log(`gateway says: ${m.message}`);
      default:
        return;
    }
  }

  /** Asks for a new certificate (for a new key) once the current one is in the last part of its lifetime. */
  async function renewIfDue() {
    if (renewal) return;
    const cert = new X509Certificate(tls.certPem);
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    if (to - Date.now() > (to - from) * (opts.renewWhenLeft ?? 1 / 3)) return;
    if (ws?.readyState !== WebSocket.OPEN) return;
    const { keyPem, csrPem } = await newKeyAndCsr();
    renewal = { keyPem };
    send({ type: "renew", csr: csrPem });
  }

  function pump() {
    while (ws && inFlight.size < concurrency && queue.size) {
      const [id, result] = queue.entries().next().value as [string, Pending];
      queue.delete(id);
      inFlight.set(id, "opening");
      void (async () => {
        const file = path.join(opts.spoolDir, `${id}.dcm`);
        const p: Pull = { result, file, fh: await open(file, "w"), hash: createHash("sha256"), size: 0, writes: Promise.resolve() };
        if (inFlight.get(id) !== "opening" || !ws) {
          inFlight.delete(id);
          await p.fh.close();
          await rm(file, { force: true });
          return pump();
        }
        inFlight.set(id, p);
        send({ type: "pull", id });
      })().catch((e) => {
        inFlight.delete(id);
        log(`could not start pulling ${id}: ${e instanceof Error ? e.message : e}`);
        send({ type: "nack", id, reason: `router spool: ${e instanceof Error ? e.message : e}` });
      });
    }
  }

  async function finishPull(p: Pull) {
    const id = p.result.id;
    inFlight.set(id, "forwarding");
    await p.writes;
    await p.fh.close();
    const sha = p.hash.digest("hex");
    try {
      if (sha !== p.result.sha256 || p.size !== p.result.sizeBytes) throw new Error(`SHA-256 mismatch (got ${sha}, expected ${p.result.sha256})`);
      await opts.forward(p.file, p.result);
      send({ type: "ack", id });
      log(`forwarded ${p.result.sopInstanceUid}`);
      listeners.forwarded.forEach((f) => f(id));
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      log(`could not forward ${id}: ${reason}`);
      send({ type: "nack", id, reason: reason.slice(0, 1000) });
    } finally {
      inFlight.delete(id);
      await rm(p.file, { force: true });
      pump();
    }
  }

  connect();
  return {
    onForwarded: (f: (id: string) => void) => listeners.forwarded.push(f),
    onConnected: (f: () => void) => listeners.connected.push(f),
    /** every notify frame: how many results it carried, and how many are queued after it */
    onNotified: (f: (n: number, queued: number) => void) => listeners.notified.push(f),
    stop() {
      stopped = true;
      clearInterval(heartbeat);
      clearInterval(renewalCheck);
      ws?.close(1000, "agent stopping");
    },
  };
}
