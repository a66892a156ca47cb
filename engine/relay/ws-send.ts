// Sending to a router with WebSocket backpressure: a sender awaits each frame only once the socket's buffer is
// past a threshold, so a large backlog or a big result is paced by the link instead of piling up in memory.
import type { WebSocket } from "ws";
import type { ServerMessage } from "../router-agent/protocol";

/** Bytes the socket may hold unsent before a sender waits (four 256 KiB chunks, base64). */
const HIGH_WATER_BYTES = 1.5 * 1024 * 1024;

/** Resolves once the frame is queued under the threshold, or once written; rejects when the connection is gone. */
export function sendPaced(ws: WebSocket, m: ServerMessage): Promise<void> {
  if (ws.readyState !== ws.OPEN) return Promise.reject(new Error("connection closed"));
  return new Promise((resolve, reject) => {
    let settled = false;
    ws.send(JSON.stringify(m), (err) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve();
    });
    if (!settled && ws.bufferedAmount < HIGH_WATER_BYTES) {
      settled = true;
      resolve();
    }
  });
}
