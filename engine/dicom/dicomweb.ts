// DICOMweb for migration targets (PS3.18): STOW-RS stores a study's Part 10 files as they are (one
// multipart/related request, streamed from disk), WADO-RS retrieves the study back for verification, QIDO-RS answers
// the connection test. Files go over the wire unchanged, so the target's copy can be hashed like a C-GET's.
import { createReadStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { randomUUID } from "node:crypto";
import { parseMultipartStream } from "@remix-run/multipart-parser";

export class DicomWebError extends Error {
  constructor(
    message: string,
    readonly failures: { sopInstanceUid: string; reason: string }[] = [],
  ) {
    super(message);
  }
}

const UID = /^[0-9.]{1,64}$/;
const base = (url: string) => url.replace(/\/+$/, "");
const TIMEOUT_MS = 300_000;

async function request(url: string, init: RequestInit & { duplex?: "half" }, what: string) {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new DicomWebError(`${what}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
}

/** QIDO-RS for one study: proves the service answers DICOMweb, not just HTTP. */
export async function pingDicomWeb(url: string) {
  const res = await request(`${base(url)}/studies?limit=1`, { headers: { accept: "application/dicom+json" } }, `${url} did not answer`);
  if (res.status !== 200 && res.status !== 204) throw new DicomWebError(`${url} answered the QIDO-RS query with HTTP ${res.status}`);
  await res.body?.cancel();
}

/** Failed SOP Sequence (0008,1198) of a STOW-RS response: which instances failed, and the Failure Reason (0008,1197). */
function failuresOf(body: unknown): { sopInstanceUid: string; reason: string }[] {
  const failed = (body as Record<string, { Value?: Record<string, { Value?: unknown[] }>[] }> | null)?.["00081198"]?.Value ?? [];
  return failed.map((item) => ({
    sopInstanceUid: String(item["00081155"]?.Value?.[0] ?? "?"),
    reason: `failure reason 0x${Number(item["00081197"]?.Value?.[0] ?? 0).toString(16).padStart(4, "0")}`,
  }));
}

/** STOW-RS of the given Part 10 files in one request; throws with the target's per-instance failures. */
export async function stowFiles(url: string, files: string[]) {
  const boundary = `imgops-${randomUUID()}`;
  async function* body() {
    for (const file of files) {
      yield Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
      for await (const chunk of createReadStream(file)) yield chunk as Buffer;
      yield Buffer.from("\r\n");
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  }
  const res = await request(
    `${base(url)}/studies`,
    {
      method: "POST",
      headers: { "content-type": `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: "application/dicom+json" },
      body: Readable.toWeb(Readable.from(body())) as ReadableStream,
      duplex: "half",
    },
    `STOW-RS to ${url} failed`,
  );
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: the status says enough
  }
  const failures = failuresOf(parsed);
  if (res.status === 200 && !failures.length) return;
  throw new DicomWebError(`the STOW-RS target answered HTTP ${res.status}${failures.length ? ` and refused ${failures.length} instance(s)` : ""}`, failures);
}

/** WADO-RS of one study into `dir` as Part 10 files; an empty list when the target does not have it. */
export async function wadoStudy(url: string, studyInstanceUid: string, dir: string): Promise<string[]> {
  if (!UID.test(studyInstanceUid)) throw new DicomWebError(`"${studyInstanceUid}" is not a study instance UID`);
  await mkdir(dir, { recursive: true });
  const res = await request(
    `${base(url)}/studies/${studyInstanceUid}`,
    { headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } },
    `WADO-RS from ${url} failed`,
  );
  if (res.status === 404) return [];
  const boundary = /boundary="?([^";]+)"?/i.exec(res.headers.get("content-type") ?? "")?.[1];
  if (res.status !== 200 || !boundary || !res.body) throw new DicomWebError(`WADO-RS of study ${studyInstanceUid} answered HTTP ${res.status} (${res.headers.get("content-type") ?? "no content type"})`);
  const files: string[] = [];
  for await (const part of parseMultipartStream(res.body, { boundary, maxFileSize: 4 * 1024 ** 3, maxTotalSize: Number.MAX_SAFE_INTEGER, maxParts: 1_000_000 })) {
    const file = path.join(dir, `${files.length}.dcm`);
    await writeFile(file, part.bytes);
    files.push(file);
  }
  return files;
}

/** QIDO-RS of one study's instances: the SOP Instance UIDs the target holds for it now (none when it answers 404/204). */
export async function qidoInstances(url: string, studyInstanceUid: string): Promise<string[]> {
  if (!UID.test(studyInstanceUid)) throw new DicomWebError(`"${studyInstanceUid}" is not a study instance UID`);
  const res = await request(`${base(url)}/studies/${studyInstanceUid}/instances?includefield=00080018`, { headers: { accept: "application/dicom+json" } }, `QIDO-RS to ${url} failed`);
  if (res.status === 404 || res.status === 204) return [];
  if (res.status !== 200) throw new DicomWebError(`QIDO-RS of study ${studyInstanceUid} answered HTTP ${res.status}`);
  const body = (await res.json()) as Record<string, { Value?: unknown[] }>[];
  return body.flatMap((d) => (typeof d["00080018"]?.Value?.[0] === "string" ? [String(d["00080018"].Value[0])] : []));
}
