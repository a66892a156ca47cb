// Tests one endpoint of a plan (saved or not) the way the migration will use it, and says what failed in words a
// PACS administrator can act on: a DICOM archive gets a C-ECHO and a study-level C-FIND, a DICOMweb service a QIDO-RS
// query, a folder a look inside it.
import { constants as fsConstants } from "node:fs";
import { access, readdir, stat } from "node:fs/promises";
import type { ConnectionTestRequest, ConnectionTestResult } from "../api/contract";
import { DicomPeerError, echo, findStudies, type DicomPeer } from "../dicom/scu";
import { resolveExportPath } from "./export-target";
import { resolveImportPath } from "./filesystem";

type Check = ConnectionTestResult["checks"][number];
type Failure = NonNullable<Check["failure"]>;

// A study UID no archive holds: the probe proves the archive answers study-level C-FIND without listing its catalogue.
const PROBE_UID = "1.2.826.0.1.3680043.10.1146.0";

/** A dcmjs-dimse failure as the action it calls for. */
export function explainDicomFailure(peer: DicomPeer, e: unknown, during: "c-echo" | "c-find"): { failure: Failure; message: string } {
  const at = `${peer.host}:${peer.port}`;
  const raw = e instanceof Error ? e.message : String(e);
  if (!(e instanceof DicomPeerError)) return { failure: "failed", message: `${during === "c-echo" ? "C-ECHO" : "C-FIND"} failed: ${raw}` };
  if (e.reason === "called-ae-unknown")
    return { failure: "called-ae-unknown", message: `Association rejected: the archive at ${at} does not recognise the called AE title "${peer.aeTitle}". Use the AE title the archive is configured with.` };
  if (e.reason === "rejected") {
    if (/reason 3\b/.test(raw))
      return { failure: "calling-ae-unknown", message: `Association rejected: the archive at ${at} does not know our calling AE title "${peer.callingAeTitle}". Add it to the archive's known DICOM peers, or use one it knows.` };
    return { failure: "rejected", message: `Association rejected by the archive at ${at} (${raw.replace(/^.*association rejected \(/, "").replace(/\)$/, "")}). Check that the archive accepts associations from "${peer.callingAeTitle}".` };
  }
  if (e.reason === "timeout")
    return { failure: "timeout", message: `No answer from ${at} in time: a firewall may be dropping the traffic, or the host or port is wrong.` };
  if (e.reason === "unreachable") {
    if (/ECONNREFUSED/.test(raw)) return { failure: "refused", message: `Connection refused at ${at}: nothing accepts DICOM on that port. Check the port number and that the archive is running.` };
    if (/ENOTFOUND|EAI_AGAIN/.test(raw)) return { failure: "not-found", message: `The host name "${peer.host}" could not be resolved. Check the spelling or use the IP address.` };
    if (/EHOSTUNREACH|ENETUNREACH/.test(raw)) return { failure: "not-found", message: `No route to ${peer.host}: the network cannot reach that host.` };
    if (/ETIMEDOUT/.test(raw)) return { failure: "timeout", message: `Connecting to ${at} timed out: a firewall may be dropping the traffic, or the host is wrong.` };
    if (/ECONNRESET|EPIPE/.test(raw)) return { failure: "tls", message: `${at} closed the connection at once: it may expect TLS, or it is not a DICOM port.` };
  }
  if (during === "c-find")
    return { failure: "query-refused", message: `The archive at ${at} answered C-ECHO but refused the study-level C-FIND (${raw.replace(/^[^:]*: /, "")}). Allow queries from "${peer.callingAeTitle}".` };
  return { failure: "failed", message: `C-ECHO to ${at} failed: ${raw.replace(/^[^:]*: /, "")}` };
}

async function testDicom(peer: DicomPeer, timeoutMs: number): Promise<Check[]> {
  try {
    await echo(peer, timeoutMs);
  } catch (e) {
    return [{ check: "c-echo", ok: false, ...explainDicomFailure(peer, e, "c-echo") }];
  }
  const checks: Check[] = [{ check: "c-echo", ok: true, message: `C-ECHO answered by ${peer.aeTitle} at ${peer.host}:${peer.port}.` }];
  try {
    await findStudies(peer, { StudyInstanceUID: PROBE_UID }, timeoutMs);
    checks.push({ check: "c-find", ok: true, message: "Study-level C-FIND answered." });
  } catch (e) {
    checks.push({ check: "c-find", ok: false, ...explainDicomFailure(peer, e, "c-find") });
  }
  return checks;
}

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_OSSL/;

/** QIDO-RS for at most one study: the service answers DICOMweb, not just HTTP. */
export async function testDicomWeb(url: string, timeoutMs: number): Promise<Check> {
  const qido = `${url.replace(/\/+$/, "")}/studies?limit=1`;
  let res: Response;
  try {
    res = await fetch(qido, { headers: { accept: "application/dicom+json" }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const code = err.cause?.code ?? "";
    const host = URL.canParse(url) ? new URL(url).host : url;
    if (err.name === "TimeoutError") return { check: "qido-rs", ok: false, failure: "timeout", message: `No answer from ${host} within ${timeoutMs / 1000} s: a firewall may be dropping the traffic.` };
    if (code === "ECONNREFUSED") return { check: "qido-rs", ok: false, failure: "refused", message: `Connection refused at ${host}: nothing serves HTTP on that port. Check the URL's port.` };
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") return { check: "qido-rs", ok: false, failure: "not-found", message: `The host name in ${url} could not be resolved.` };
    if (TLS_CODES.test(code) || /certificate|TLS|SSL/i.test(err.cause?.message ?? ""))
      return { check: "qido-rs", ok: false, failure: "tls", message: `TLS failed with ${host} (${code || err.cause?.message}): the server's certificate is not trusted by the engine, or the port does not speak HTTPS.` };
    return { check: "qido-rs", ok: false, failure: "failed", message: `${url} did not answer: ${code || err.cause?.message || err.message}` };
  }
  await res.body?.cancel();
  if (res.status === 200 || res.status === 204) return { check: "qido-rs", ok: true, message: "QIDO-RS study query answered." };
  const hint = res.status === 401 || res.status === 403 ? " The service wants credentials the engine does not have." : res.status === 404 ? " Check the URL's path to the DICOMweb root (e.g. …/dicom-web)." : "";
  return { check: "qido-rs", ok: false, failure: "http", message: `The QIDO-RS query to ${qido} was answered with HTTP ${res.status}.${hint}` };
}

async function testFolder(sourcePath: string, importRoot: string | undefined, slug: string): Promise<Check> {
  const resolved = await resolveImportPath(sourcePath, importRoot, slug);
  if ("problem" in resolved) return { check: "folder", ok: false, failure: "unreadable", message: resolved.problem };
  try {
    await access(resolved.path, fsConstants.R_OK);
    const info = await stat(resolved.path);
    if (info.isDirectory()) {
      const entries = await readdir(resolved.path);
      if (entries.length === 0) return { check: "folder", ok: false, failure: "unreadable", message: `${sourcePath} is an empty folder.` };
      return { check: "folder", ok: true, message: `${sourcePath} is readable (${entries.length} entries).` };
    }
    return { check: "folder", ok: true, message: `${sourcePath} is a readable file.` };
  } catch (e) {
    return { check: "folder", ok: false, failure: "unreadable", message: `The engine cannot read ${sourcePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.` };
  }
}

/** A filesystem target: inside the tenant's export folder, and writable (resolving it makes the folder and writes a test file). */
async function testExportFolder(targetPath: string, exportRoot: string | undefined, slug: string): Promise<Check> {
  const resolved = await resolveExportPath(targetPath, exportRoot, slug);
  if ("problem" in resolved) return { check: "folder", ok: false, failure: "unreadable", message: resolved.problem };
  return { check: "folder", ok: true, message: `${targetPath} is a writable export folder.` };
}

export async function testConnection(req: ConnectionTestRequest, opts: { slug: string; importRoot?: string; exportRoot?: string; timeoutMs?: number }): Promise<ConnectionTestResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const e = req.endpoint;
  // Sources read the tenant's import folder; a filesystem target writes its export folder.
  if (req.role === "target" && e.kind === "filesystem") {
    const check = await testExportFolder(e.path, opts.exportRoot, opts.slug);
    return { ok: check.ok, checks: [check] };
  }
  const checks =
    e.kind === "dicom" ? await testDicom(e, timeoutMs) : e.kind === "stow-rs" ? [await testDicomWeb(e.url, timeoutMs)] : [await testFolder(e.path, opts.importRoot, opts.slug)];
  return { ok: checks.every((c) => c.ok), checks };
}
