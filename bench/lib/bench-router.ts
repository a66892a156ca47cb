// A connected router for bench:relay, in a process of its own as on-prem: it holds the mTLS WebSocket open so
// every stored result is notified, and reads the notifications (it pulls nothing). Argument: a JSON file with the
// gateway URL and the router's enrolment bundle. Prints "connected" once the connection is open.
import { readFileSync } from "node:fs";
import WebSocket from "ws";

const { url, certificatePem, privateKeyPem, caCertificatePem } = JSON.parse(readFileSync(process.argv[2]!, "utf8"));
const ws = new WebSocket(url, { cert: certificatePem, key: privateKeyPem, ca: caCertificatePem });
ws.on("open", () => console.log("connected"));
ws.on("message", (data) => JSON.parse(String(data)));
ws.on("error", (e) => (console.error(`bench router: ${e.message}`), process.exit(1)));
