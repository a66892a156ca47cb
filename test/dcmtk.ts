// Runs DCMTK tools (Debian's dcmtk) as real DICOM peers. TCP_NODELAY=1: without it DCMTK 3.6.7 leaves Nagle on
// and every C-STORE waits for a delayed ACK.
import { execFile } from "node:child_process";

export type Run = { code: number; stdout: string; stderr: string };

export function dcmtk(tool: string, args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(tool, args, { env: { ...process.env, TCP_NODELAY: "1" }, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

/**
 * The dataset part of `dcmdump` output: the File Meta Information header is removed, and so is Data Set Trailing
 * Padding (FFFC,FFFC), which DCMTK's storescu itself drops when it sends a file.
 */
export async function datasetDump(file: string) {
  const { stdout, code, stderr } = await dcmtk("dcmdump", ["-q", "+L", file]);
  if (code !== 0) throw new Error(`dcmdump ${file}: ${stderr}`);
  const i = stdout.indexOf("# Dicom-Data-Set");
  return (i >= 0 ? stdout.slice(i) : stdout)
    .split("\n")
    .filter((l) => !l.startsWith("# Used TransferSyntax") && !l.startsWith("(fffc,fffc)"))
    .join("\n");
}

/** Where Debian's python3-pydicom keeps its real test files. */
export const PYDICOM_TEST_FILES = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

/** The dataset bytes of a Part 10 file: everything after the File Meta Information group. */
export function datasetBytes(part10: Buffer): Buffer {
  if (part10.subarray(128, 132).toString("latin1") !== "DICM") throw new Error("not a Part 10 file");
  // (0002,0000) UL is the first meta element: tag 4 + VR 2 + length 2 + value 4 bytes, value = bytes after it.
  const groupLength = part10.readUInt32LE(132 + 8);
  return part10.subarray(132 + 12 + groupLength);
}

/**
 * The dataset's elements and values as `dcmdump` prints them, without what depends on the encoding (transfer
 * syntax, lengths, item and delimitation lines): equal for the same dataset in implicit and explicit VR.
 */
export async function datasetElements(file: string) {
  return (await datasetDump(file))
    .split("\n")
    .filter((l) => !/^\s*\(fffe,e0[0d]d\)/.test(l) && !/^\s*\(fffe,e000\)/.test(l))
    .map((l) => l.replace(/\s+#\s+(\d+|u\/l),\s*\d+\s.*$/, "").trimEnd())
    .join("\n");
}
