// The on-prem router agent: connects outbound to the gateway with its certificate, pulls each pending result,
// verifies its SHA-256, forwards it to the local PACS, and acks only after the PACS accepted it.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { open, rm } from "node:fs/promises";
import path from "node:path";
import WebSocket from "ws";
import { ServerMessage, parseFrame, type Pending, type RouterMessage } from "./protocol";

export type AgentOptions = {
  gatewayUrl: string;
  tls: { certPem: string; keyPem: string; caPem: string };
  spoolDir: string;
  /** sends one Part 10 file to the local PACS; throws when the PACS did not accept it */
  forward: (file: string, result: Pending) => Promise<void>;
  log?: (m: string) => void;
  maxBackoffMs?: number;
};

export function startRouterAgent(opts: AgentOptions) {
  const log = opts.log ?? ((m: string) => console.log(`[router] ${m}`));
  mkdirSync(opts.spoolDir, { recursive: true });
  let ws: WebSocket | null = null;
  let stopped = false;
  let backoff = 500;
  let heartbeat: NodeJS.Timeout | undefined;
  const queue: Pending[] = [];
  const queued = new Set<string>();
  let busy = false;
  let current: { result: Pending; file: string; fh: Awaited<ReturnType<typeof open>>; hash: ReturnType<typeof createHash>; size: number } | null = null;
  const listeners = { forwarded: [] as ((id: string) => void)[], connected: [] as (() => void)[] };

  const send = (m: RouterMessage) => ws?.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m));

  function connect() {
    if (stopped) return;
    const socket = new WebSocket(opts.gatewayUrl, { cert: opts.tls.certPem, key: opts.tls.keyPem, ca: opts.tls.caPem, maxPayload: 8 << 20 });
    ws = socket;
    socket.on("open", () => {
      backoff = 500;
      log(`connected to ${opts.gatewayUrl}`);
      listeners.connected.forEach((f) => f());
    });
    socket.on("message", (data) => void onMessage(data).catch((e) => log(`error: ${e instanceof Error ? e.message : e}`)));
    socket.on("error", (e) => log(`connection error: ${e.message}`));
    socket.on("close", (code, reason) => {
      clearInterval(heartbeat);
      if (ws === socket) ws = null;
      void abandonCurrent();
      queue.length = 0;
      queued.clear();
      busy = false;
      if (stopped) return;
      log(`disconnected (${code} ${reason.toString()}); reconnecting in ${backoff} ms`);
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, opts.maxBackoffMs ?? 30_000);
    });
  }

  async function abandonCurrent() {
    const c = current;
    current = null;
    if (c) {
      await c.fh.close().catch(() => {});
      await rm(c.file, { force: true });
    }
  }

  async function onMessage(data: WebSocket.RawData) {
    const parsed = parseFrame(ServerMessage, data);
    if (!parsed.ok) return log(`ignoring ${parsed.error}`);
    const m = parsed.message;
    switch (m.type) {
      case "hello":
        clearInterval(heartbeat);
        heartbeat = setInterval(() => send({ type: "heartbeat" }), m.heartbeatSeconds * 1000);
        return;
      case "notify":
        for (const r of m.results) if (!queued.has(r.id)) (queued.add(r.id), queue.push(r));
        return pump();
      case "chunk": {
        if (!current || current.result.id !== m.id) return;
        const bytes = Buffer.from(m.data, "base64");
        await current.fh.write(bytes, 0, bytes.length, m.offset);
        current.hash.update(bytes);
        current.size += bytes.length;
        if (m.last) await finishPull();
        return;
      }
      case "pull-failed":
        log(`pull of ${m.id} failed: ${m.message}`);
        await abandonCurrent();
        return next();
      case "error":
        return log(`gateway says: ${m.message}`);
      default:
        return;
    }
  }

  function pump() {
    if (busy || !queue.length || !ws) return;
    busy = true;
    const result = queue.shift()!;
    void (async () => {
      const file = path.join(opts.spoolDir, `${result.id}.dcm`);
      current = { result, file, fh: await open(file, "w"), hash: createHash("sha256"), size: 0 };
      send({ type: "pull", id: result.id });
    })();
  }

  function next() {
    busy = false;
    pump();
  }

  async function finishPull() {
    const c = current!;
    await c.fh.close();
    const sha = c.hash.digest("hex");
    try {
      if (sha !== c.result.sha256 || c.size !== c.result.sizeBytes) throw new Error(`SHA-256 mismatch (got ${sha}, expected ${c.result.sha256})`);
      await opts.forward(c.file, c.result);
      send({ type: "ack", id: c.result.id });
      queued.delete(c.result.id);
      log(`forwarded ${c.result.sopInstanceUid}`);
      listeners.forwarded.forEach((f) => f(c.result.id));
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      log(`could not forward ${c.result.id}: ${reason}`);
      send({ type: "nack", id: c.result.id, reason });
      queued.delete(c.result.id);
    } finally {
      current = null;
      await rm(c.file, { force: true });
      next();
    }
  }

  connect();
  return {
    onForwarded: (f: (id: string) => void) => listeners.forwarded.push(f),
    onConnected: (f: () => void) => listeners.connected.push(f),
    stop() {
      stopped = true;
      clearInterval(heartbeat);
      ws?.close(1000, "agent stopping");
    },
  };
}
