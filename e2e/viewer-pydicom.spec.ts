// The viewer over pydicom's real test images: every file with pixel data goes into one study, which the real
// engine quarantines (a pixel byte flipped at the target), and the review screen's viewer steps through each
// instance. The files the issue names (CT; MR in its transfer syntaxes; NM JPEG 12-bit; RGB JPEG and RLE;
// multi-frame) must render; every other file either renders or shows why it cannot, never a blank canvas. The
// table of which is which is printed.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { PYDICOM_TEST_FILES } from "../test/dcmtk";
import { signIn } from "./helpers";
import { flipAtTarget, importFolder, migrateFolder, quarantineItems, sopOf } from "./quarantine-fixture";

const MUST_RENDER = [
  "CT_small.dcm",
  "MR_small.dcm",
  "MR_small_implicit.dcm",
  "MR_small_RLE.dcm",
  "MR_small_jp2klossless.dcm",
  "MR_small_jpeg_ls_lossless.dcm",
  "JPEG2000.dcm",
  "JPGExtended.dcm",
  "SC_rgb_jpeg_dcmtk.dcm",
  "SC_rgb_rle.dcm",
  "SC_rgb_rle_2frame.dcm",
];

const hasPixels = (f: string) => {
  try {
    return execFileSync("dcmdump", ["-q", "+P", "7fe0,0010", f], { stdio: ["ignore", "pipe", "ignore"] }).toString().includes("7fe0,0010");
  } catch {
    return false;
  }
};

test("the viewer renders pydicom's supported images and names the problem with the rest", async ({ page }) => {
  test.setTimeout(300_000);
  const dir = importFolder("northside", "pydicom");
  mkdirSync(dir, { recursive: true });
  const study = `2.25.${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const files = new Map<string, string>(); // SOP instance UID → pydicom file name
  const refused: string[] = [];
  for (const name of readdirSync(PYDICOM_TEST_FILES).filter((n) => n.endsWith(".dcm")).sort()) {
    const src = path.join(PYDICOM_TEST_FILES, name);
    if (!hasPixels(src)) continue;
    const f = path.join(dir, name);
    copyFileSync(src, f);
    try {
      // One study; new SOP UIDs (several MR_small variants share one).
      execFileSync("dcmodify", ["-nb", "-gin", "-i", `(0020,000D)=${study}`, "-i", "(0008,0020)=20240301", "-i", `(0020,0013)=${files.size + 1}`, f], { stdio: "ignore" });
      files.set(sopOf(f), name);
    } catch {
      refused.push(name);
      execFileSync("rm", ["-f", f]);
    }
  }
  flipAtTarget([[...files.keys()][0]!]);
  const m = await migrateFolder("northside", "pydicom");
  const [item] = await quarantineItems("northside", m.id);
  expect(item, "the study is quarantined").toBeTruthy();
  const detail = (await (await fetch(`${process.env.E2E_ENGINE_ADMIN_URL}/v1/tenants/northside/quarantine/${item!.id}`, { headers: { authorization: `Bearer ${process.env.E2E_ENGINE_ADMIN_TOKEN}` } })).json()) as { instances: { id: string; side: string; sopInstanceUid: string | null }[] };
  const stack = detail.instances.filter((i) => i.side === "source").map((i) => files.get(i.sopInstanceUid ?? "") ?? `(unknown ${i.sopInstanceUid})`);
  // Files the migration's discovery did not take (not Part 10 files) are named in the table, not viewed.
  const notTaken = [...files.values()].filter((n) => !stack.includes(n));
  for (const name of MUST_RENDER) expect(stack, `${name} is in the study`).toContain(name);

  await signIn(page, "reviewer@northside.test", "demo", `/t/northside/quarantine/${item!.id}`);
  await expect(page.getByTestId("viewer")).toHaveAttribute("data-state", "ready", { timeout: 60_000 });
  await page.waitForFunction((n) => (window as unknown as { __viewer: { positions: () => { instance: number }[] } }).__viewer.positions().some((p) => p.instance === n - 1), stack.length, { timeout: 60_000 });
  const positions = await page.evaluate(() => (window as unknown as { __viewer: { positions: () => { instance: number; frame: number }[] } }).__viewer.positions());
  const outcome = new Map<string, { frames: number; rendered: boolean; message: string | null; drawn: number }>();
  for (const [i, p] of positions.entries()) {
    const name = stack[p.instance]!;
    const seen = outcome.get(name);
    if (seen) {
      seen.frames++;
      continue;
    }
    const r = await page.evaluate(async (at) => {
      const v = (window as unknown as { __viewer: { show: (i: number) => Promise<number>; problem: () => string | null } }).__viewer;
      await v.show(at);
      const c = document.querySelector<HTMLCanvasElement>("[data-testid=viewer-canvas] canvas");
      const d = c?.getContext("2d")?.getImageData(0, 0, c.width, c.height).data;
      let drawn = 0;
      if (d) for (let k = 0; k < d.length; k += 4) if (d[k]! + d[k + 1]! + d[k + 2]! > 0) drawn++;
      return { message: v.problem(), drawn: d ? drawn / (d.length / 4) : 0 };
    }, i);
    outcome.set(name, { frames: 1, rendered: !r.message && r.drawn > 0, message: r.message, drawn: r.drawn });
  }
  console.log(["file                                     | frames | viewer", ...[...outcome].map(([n, o]) => `${n.padEnd(40)} | ${String(o.frames).padStart(6)} | ${o.rendered ? "rendered" : o.message ? `message: ${o.message.slice(0, 110)}` : "BLANK"}`), ...refused.map((n) => `${n.padEnd(40)} |        | not usable as a study member (dcmodify refused it)`), ...notTaken.map((n) => `${n.padEnd(40)} |        | not taken by the migration (not a Part 10 file)`)].join("\n"));
  for (const name of MUST_RENDER) expect(outcome.get(name)?.rendered, `${name} renders`).toBe(true);
  expect(outcome.get("SC_rgb_rle_2frame.dcm")?.frames).toBe(2);
  // Nothing is left blank: each file is drawn or its problem is named.
  for (const [name, o] of outcome) expect(o.rendered || !!o.message, `${name}: drawn or explained`).toBe(true);
  // The review screen's preview (DCMTK): a PNG of a file it renders; none (404) for one it cannot, the viewer's
  // message being what the reviewer sees for it.
  const previewOf = async (name: string) => {
    const ev = detail.instances.find((i) => i.side === "source" && files.get(i.sopInstanceUid ?? "") === name)!;
    return page.request.get(new URL(`/api/t/northside/quarantine/${item!.id}/instances/${ev.id}/preview`, page.url()).toString());
  };
  const ct = await previewOf("CT_small.dcm");
  expect(ct.status()).toBe(200);
  const png = await ct.body();
  expect([png.subarray(0, 8).toString("hex"), png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual(["89504e470d0a1a0a", 128, 128]);
  expect((await previewOf("JPEG2000.dcm")).status()).toBe(404);
  await m.target.stop();
});
