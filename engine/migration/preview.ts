// The plan's tag rules applied to a real study from a source, before anything is migrated: one study found there
// (the first C-FIND match in the plan's filters, or the first study of a folder), retrieved to a temporary folder,
// transformed by the same code as the pipeline, and each sampled instance's elements shown before and after.
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { MigrationPlan, TransformPreview } from "../api/contract";
import { getStudy, moveStudy, type MoveDestination } from "../dicom/retrieve";
import { findStudies } from "../dicom/scu";
import { resolveImportPath, listSourceFiles, studiesOf } from "./filesystem";
import { parseElements } from "./header";
import { applyTransforms } from "./transforms";

/** At most this many instances of the sample study are shown: enough to see the rules act, small enough to read. */
const SAMPLE_INSTANCES = 3;

export class PreviewError extends Error {}

type Source = MigrationPlan["sources"][number];

async function sampleStudy(source: Source, plan: MigrationPlan, dir: string, runtime: { importRoot?: string; moveDestination?: MoveDestination; slug: string }) {
  const { studyDateFrom, studyDateTo, modalities } = plan.filters;
  if (source.kind === "dicom") {
    const query: Record<string, string> = { StudyDate: `${studyDateFrom.replaceAll("-", "")}-${studyDateTo.replaceAll("-", "")}` };
    if (modalities.length === 1) query.ModalitiesInStudy = modalities[0]!;
    const { matches } = await findStudies(source, query).catch((e: Error) => Promise.reject(new PreviewError(`The source did not answer the C-FIND: ${e.message}`)));
    const study = matches.find((m) => !modalities.length || m.modalities.some((x) => modalities.includes(x)));
    if (!study) throw new PreviewError(`The source holds no study between ${studyDateFrom} and ${studyDateTo}${modalities.length ? ` with ${modalities.join(", ")}` : ""} to preview.`);
    if (source.retrieve === "c-move" && !runtime.moveDestination) throw new PreviewError("C-MOVE needs ENGINE_MOVE_PORT set on the engine; or use c-get");
    const files =
      source.retrieve === "c-move" ? await moveStudy(source, study.studyInstanceUid, dir, runtime.moveDestination!) : await getStudy(source, study.studyInstanceUid, dir);
    return { studyInstanceUid: study.studyInstanceUid, files };
  }
  const resolved = await resolveImportPath(source.path, runtime.importRoot, runtime.slug);
  if ("problem" in resolved) throw new PreviewError(resolved.problem);
  const listing = await listSourceFiles(resolved.path);
  const study = studiesOf(listing.files, { from: studyDateFrom, to: studyDateTo, modalities })[0];
  if (!study) throw new PreviewError(`${source.path} holds no study between ${studyDateFrom} and ${studyDateTo} to preview.`);
  await mkdir(dir, { recursive: true });
  // Copies: the preview never touches the source media.
  const files = await Promise.all(study.paths.map(async (p, i) => (await copyFile(p, path.join(dir, `${i}.dcm`)), path.join(dir, `${i}.dcm`))));
  return { studyInstanceUid: study.studyInstanceUid, files };
}

export async function previewTransforms(
  plan: MigrationPlan,
  sourceId: string,
  runtime: { slug: string; importRoot?: string; moveDestination?: MoveDestination; pseudonymKey?: Buffer; workRoot?: string },
): Promise<TransformPreview> {
  const source = plan.sources.find((s) => s.id === sourceId);
  if (!source) throw new PreviewError(`The plan has no source "${sourceId}".`);
  const dir = await mkdtemp(path.join(runtime.workRoot ?? os.tmpdir(), "transform-preview-"));
  try {
    const { studyInstanceUid, files } = await sampleStudy(source, plan, path.join(dir, "study"), runtime);
    if (!files.length) throw new PreviewError("The source returned no instances for the sample study.");
    const sample = [...files].sort().slice(0, SAMPLE_INSTANCES);
    const before = await Promise.all(sample.map(async (f) => parseElements(await readFile(f))));
    // The same rule selection as the pipeline: rules scoped to other sources do not apply here.
    const rules = plan.transforms.filter((r) => !r.sources || r.sources.includes(source.id));
    await applyTransforms(sample, rules, runtime.pseudonymKey).catch((e: Error) => Promise.reject(new PreviewError(`The rules could not be applied: ${e.message}`)));
    const after = await Promise.all(sample.map(async (f) => parseElements(await readFile(f))));
    const instances = sample.map((_, i) => {
      const [a, b] = [before[i]!, after[i]!];
      const index = (h: typeof a) => new Map(h.elements.filter((e) => !e.tag.startsWith("0002")).map((e) => [e.path, e]));
      const [x, y] = [index(a), index(b)];
      const paths = [...new Set([...x.keys(), ...y.keys()])].sort();
      const elements = paths.map((p) => {
        const [e1, e2] = [x.get(p), y.get(p)];
        const e = (e1 ?? e2)!;
        return { path: p, tag: e.tag, name: e.name, vr: e.vr, before: e1?.value ?? null, after: e2?.value ?? null, changed: e1?.value !== e2?.value || e1?.vr !== e2?.vr };
      });
      const uid = (e2: typeof a) => e2.elements.find((e) => e.tag === "00080018")?.value.trim() ?? "";
      return { sopInstanceUid: uid(a) || uid(b), elements };
    });
    return { sourceId: source.id, studyInstanceUid, instancesInStudy: files.length, instances };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
