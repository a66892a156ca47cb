// A real Orthanc (Debian's package) on ports chosen at run time: a migration source or target for the tests.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../scripts/lib/ports";

export async function startOrthanc(opts: {
  aeTitle: string;
  limitFindResults?: number;
  overwrite?: boolean;
  /** serve DICOMweb (Debian's orthanc-dicomweb plugin) at `${http}/dicom-web` */
  dicomWeb?: boolean;
  /** peers it may C-MOVE to: AE title → port on 127.0.0.1 */
  moveDestinations?: Record<string, number>;
}) {
  const [dicomPort, httpPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(os.tmpdir(), `orthanc-${opts.aeTitle.toLowerCase()}-`));
  writeFileSync(
    path.join(dir, "orthanc.json"),
    JSON.stringify({
      Name: opts.aeTitle,
      DicomAet: opts.aeTitle,
      DicomPort: dicomPort,
      HttpPort: httpPort,
      StorageDirectory: path.join(dir, "db"),
      IndexDirectory: path.join(dir, "db"),
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      DicomCheckCalledAet: true,
      DicomAlwaysAllowEcho: true,
      DicomAlwaysAllowStore: true,
      DicomAlwaysAllowFind: true,
      DicomAlwaysAllowMove: true,
      DicomAlwaysAllowGet: true,
      UnknownSopClassAccepted: true,
      LimitFindResults: opts.limitFindResults ?? 0,
      // A target that accepts a corrected copy of an instance it holds (a repaired study is sent again).
      OverwriteInstances: opts.overwrite ?? false,
      Plugins: opts.dicomWeb ? ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"] : [],
      DicomWeb: { Enable: !!opts.dicomWeb, Root: "/dicom-web/" },
      DicomModalities: Object.fromEntries(Object.entries(opts.moveDestinations ?? {}).map(([ae, port]) => [ae.toLowerCase(), [ae, "127.0.0.1", port]])),
    }),
  );
  const child: ChildProcess = spawn("Orthanc", [path.join(dir, "orthanc.json")], { env: { ...process.env, TCP_NODELAY: "1" }, stdio: "ignore" });
  const http = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`${http}/system`).then((r) => r.ok, () => false);
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`Orthanc ${opts.aeTitle} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    aeTitle: opts.aeTitle,
    port: dicomPort,
    http,
    dicomWebUrl: `${http}/dicom-web`,
    /** Stores a Part 10 file through Orthanc's REST API. */
    async upload(file: string) {
      const res = await fetch(`${http}/instances`, { method: "POST", body: readFileSync(file) });
      if (!res.ok) throw new Error(`Orthanc refused ${file}: HTTP ${res.status}`);
    },
    studies: async () => (await fetch(`${http}/studies`).then((r) => r.json())) as string[],
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
