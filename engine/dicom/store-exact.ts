// Sending a stored Part 10 file to a DICOM archive (the router agent to its PACS, a migration to its target)
// with DCMTK's storescu, proposing exactly one presentation context: the file's SOP class in the file's own transfer syntax.
// The archive either accepts the dataset as stored or the send fails; nothing is converted on the way, unlike a
// sender that re-encodes or falls back to another transfer syntax.
import { execFile } from "node:child_process";
import { writeFile, rm } from "node:fs/promises";

export type Pacs = { host: string; port: number; aeTitle: string };

const UID = /^[0-9.]{1,64}$/;

export async function forwardExact(file: string, instance: { sopClassUid: string; transferSyntaxUid: string }, pacs: Pacs, callingAe: string) {
  if (!UID.test(instance.sopClassUid) || !UID.test(instance.transferSyntaxUid)) throw new Error("invalid SOP class or transfer syntax UID");
  const config = `${file}.storescu.cfg`;
  await writeFile(
    config,
    [
      "[[TransferSyntaxes]]",
      "[AsStored]",
      `TransferSyntax1 = ${instance.transferSyntaxUid}`,
      "[[PresentationContexts]]",
      "[Exact]",
      `PresentationContext1 = ${instance.sopClassUid}\\AsStored`,
      "[[Profiles]]",
      "[Forward]",
      "PresentationContexts = Exact",
      "",
    ].join("\n"),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        "storescu",
        ["-aet", callingAe, "-aec", pacs.aeTitle, "-xf", config, "Forward", pacs.host, String(pacs.port), file],
        { env: { ...process.env, TCP_NODELAY: "1" }, timeout: 120_000 },
        (err, _stdout, stderr) => {
          if (!err) return resolve();
          const reason = stderr.toString().split("\n").filter((l) => /^[EF]:/.test(l)).join(" ").trim() || err.message;
          reject(new Error(`the PACS did not accept the instance: ${reason}`));
        },
      );
    });
  } finally {
    await rm(config, { force: true });
  }
}
