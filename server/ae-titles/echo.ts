import "server-only";
import dimse from "dcmjs-dimse";
import { engineDicomEnv } from "../env";

const { Client, requests, constants } = dimse;
/** The calling AE title the console uses for its own C-ECHO tests. */
export const CONSOLE_AE_TITLE = "IMGOPS_CONSOLE";

export type EchoResult = { ok: boolean; message: string; ms: number };

/** A C-ECHO to the engine's DICOM endpoint with `calledAe`, as a vendor would open it. */
export function echoEngine(calledAe: string, timeoutMs = 5000): Promise<EchoResult> {
  const { ENGINE_DICOM_HOST, ENGINE_DICOM_PORT } = engineDicomEnv();
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean, message: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ok, message, ms: ms() });
    };
    const timer = setTimeout(() => finish(false, `No answer from ${ENGINE_DICOM_HOST}:${ENGINE_DICOM_PORT} within ${timeoutMs / 1000} s.`), timeoutMs);
    const client = new Client();
    const request = new requests.CEchoRequest();
    request.on("response", (response: { getStatus(): number }) => {
      if (response.getStatus() === constants.Status.Success) finish(true, `C-ECHO succeeded: the engine accepts associations to ${calledAe}.`);
      else finish(false, `The engine answered the C-ECHO with status 0x${response.getStatus().toString(16)}.`);
    });
    client.addRequest(request);
    client.on("associationRejected", (r: { reason?: number }) =>
      finish(false, r?.reason === constants.RejectReason.CalledAeNotRecognized
        ? `The engine does not recognize ${calledAe} (not applied yet, or not this tenant's).`
        : `The engine rejected the association (reason ${r?.reason ?? "unknown"}).`),
    );
    client.on("networkError", (e: Error) => finish(false, `The engine's DICOM endpoint is unreachable: ${e.message}`));
    client.on("closed", () => finish(false, "The association closed without an answer."));
    client.send(ENGINE_DICOM_HOST, ENGINE_DICOM_PORT, CONSOLE_AE_TITLE, calledAe);
  });
}
