// Forwarding to the local PACS with DCMTK's dcmsend: it proposes the file's own transfer syntax and sends the
// dataset as stored, so what the PACS receives is what the vendor sent (no re-encoding in JavaScript).
import { execFile } from "node:child_process";

export type Pacs = { host: string; port: number; aeTitle: string };

export function forwardWithDcmsend(file: string, pacs: Pacs, callingAe: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      "dcmsend",
      ["-aet", callingAe, "-aec", pacs.aeTitle, "-dn" /* never decompress: fail rather than alter */, "-nh", pacs.host, String(pacs.port), file],
      { env: { ...process.env, TCP_NODELAY: "1" }, timeout: 120_000 },
      (err, _stdout, stderr) => {
        if (!err) return resolve();
        const reason = stderr.toString().split("\n").filter((l) => /^[EF]:/.test(l)).join(" ").trim() || err.message;
        reject(new Error(`the PACS did not accept the instance: ${reason}`));
      },
    );
  });
}
