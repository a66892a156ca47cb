import "server-only";
import { DicomPeerError, echo } from "@/engine/dicom/scu";
import { engineDicomEnv } from "../env";

/** The calling AE title the console uses for its own C-ECHO tests. */
export const CONSOLE_AE_TITLE = "IMGOPS_CONSOLE";

export type EchoResult = { ok: boolean; message: string; ms: number };

/** A C-ECHO to the engine's DICOM endpoint with `calledAe`, as a vendor would open it. */
export async function echoEngine(calledAe: string, timeoutMs = 5000): Promise<EchoResult> {
  const { ENGINE_DICOM_HOST, ENGINE_DICOM_PORT } = engineDicomEnv();
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    await echo({ aeTitle: calledAe, host: ENGINE_DICOM_HOST, port: ENGINE_DICOM_PORT, callingAeTitle: CONSOLE_AE_TITLE }, timeoutMs);
    return { ok: true, message: `C-ECHO succeeded: the engine accepts associations to ${calledAe}.`, ms: ms() };
  } catch (e) {
    if (!(e instanceof DicomPeerError)) throw e;
    const message =
      e.reason === "called-ae-unknown"
        ? `The engine does not recognize ${calledAe} (not applied yet, or not this tenant's).`
        : e.reason === "unreachable"
          ? `The engine's DICOM endpoint is unreachable: ${e.message}`
          : e.message;
    return { ok: false, message, ms: ms() };
  }
}
