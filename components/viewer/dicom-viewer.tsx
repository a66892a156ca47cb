"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { preload } from "react-dom";
import { cornerstoneModules } from "./cornerstone-registry";
import { loadStack, type LoadedInstance, type StackInstance } from "./load-stack";
import { voiOf, WL_PRESETS } from "./presets";

type Cs = typeof import("@cornerstonejs/core");
type Viewport = import("@cornerstonejs/core").Types.IStackViewport;
type Frame = { imageId: string; instance: number; frame: number; frames: number } | { error: string; instance: number };

/** Per-page singletons: Cornerstone is initialized once per browser tab, its decoders in web workers. */
let ready: Promise<{ cs: Cs; fileManager: { add: (b: Blob) => string } }> | null = null;
function cornerstone() {
  ready ??= (async () => {
    const { cs, loader } = await cornerstoneModules;
    performance.mark("viewer:cornerstone-imported");
    await cs.init();
    // A stack of 2D slices needs no GPU pipeline: CPU rendering starts faster (no WebGL/vtk.js set-up) and scrolls
    // well within the aim, and behaves the same where WebGL is slow or missing (software GL, remote desktops).
    cs.setUseCPURendering(true);
    loader.init({ maxWebWorkers: Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) });
    return { cs, fileManager: loader.wadouri.fileManager as { add: (b: Blob) => string } };
  })();
  return ready;
}
let imported: Promise<unknown> | null = null;
const importCornerstone = () => (imported ??= import("./cornerstone-boot").catch((e) => ((imported = null), Promise.reject(e))));

/**
 * Resolves once the preview has been painted, or at once when there is none (or it failed), but never later than
 * `cap` ms: Cornerstone's chunk is run after it so that the preview is not held back, nor Cornerstone by a slow one.
 */
function afterPreviewPainted(img: HTMLImageElement | null, cap = 500) {
  return new Promise<void>((resolve) => {
    const paintedThen = () => requestAnimationFrame(() => setTimeout(resolve, 0)); // the frame after it is on screen
    if (!img || img.complete) return paintedThen();
    img.addEventListener("load", paintedThen, { once: true });
    img.addEventListener("error", () => resolve(), { once: true });
    setTimeout(resolve, cap);
  });
}

// Initialize as soon as the modules arrive, not after the next render; import them as soon as the server-rendered
// preview is on screen (before hydration: the chunk downloads and compiles while the page's own scripts run).
if (typeof window !== "undefined") {
  void cornerstone().catch(() => (ready = null));
  void afterPreviewPainted(document.querySelector<HTMLImageElement>("img[data-viewer-preview]"))
    .then(importCornerstone)
    .catch(() => {});
}
const framesOf = (loaded: LoadedInstance, add: (b: Blob) => string): Frame[] => {
  if ("error" in loaded) return [{ error: `could not be fetched: ${loaded.error}`, instance: loaded.index }];
  const id = add(new Blob([loaded.bytes], { type: "application/dicom" }));
  if (loaded.frames === 1) return [{ imageId: id, instance: loaded.index, frame: 1, frames: 1 }];
  return Array.from({ length: loaded.frames }, (_, f) => ({ imageId: `${id}?frame=${f + 1}`, instance: loaded.index, frame: f + 1, frames: loaded.frames }));
};

/** True when the drawn canvas is black throughout (a single pass over it: about a millisecond per slice). */
function looksBlack(el: HTMLElement | null) {
  const c = el?.querySelector("canvas");
  const ctx = c?.getContext("2d");
  if (!c || !ctx || !c.width || !c.height) return false;
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  for (let k = 0; k < d.length; k += 4) if (d[k]! + d[k + 1]! + d[k + 2]! > 0) return false;
  return true;
}

const reasonOf = (e: unknown) => {
  const m = e instanceof Error ? e.message : typeof e === "object" && e && "error" in e ? String((e as { error: unknown }).error) : String(e);
  return m && m !== "[object Object]" ? m : "the decoder could not read its pixel data";
};

/**
 * A Cornerstone3D stack viewport over a study's instances: wheel or arrow keys scroll, left-drag sets
 * window/level, right- or shift-drag pans, ctrl-wheel zooms; presets 1-4; reset. An instance that cannot be decoded
 * shows why instead of a blank canvas: for a reviewer that is evidence too.
 */
export function DicomViewer({ instances, preview, keyboard = true }: { instances: StackInstance[]; preview?: string; keyboard?: boolean }) {
  // With a preview, it is what the page's head asks for first; without one, the first instance's bytes (the
  // viewer's fetch then takes them from the preload).
  if (preview) preload(preview, { as: "image", fetchPriority: "high" });
  else if (instances[0]) preload(instances[0].url, { as: "fetch", crossOrigin: "anonymous" });
  const element = useRef<HTMLDivElement>(null);
  const viewport = useRef<Viewport | null>(null);
  const frames = useRef<Frame[]>([]);
  const [index, setIndex] = useState(0);
  const [count, setCount] = useState(instances.length);
  const [problem, setProblem] = useState<string | null>(null);
  const [status, setStatus] = useState<"loading" | "ready" | "error">("loading");
  const [voi, setVoi] = useState<string>("");
  // The server-rendered preview of the first image (a PNG, no script needed) until the viewer has drawn it.
  const previewImg = useRef<HTMLImageElement>(null);
  const [previewing, setPreviewing] = useState(!!preview);
  // The problem shown for the current image, readable at once (React state reaches the DOM a little later).
  const problemNow = useRef<string | null>(null);
  const report = useCallback((p: string | null) => {
    problemNow.current = p;
    setProblem(p);
  }, []);

  const show = useCallback(async (i: number) => {
    const vp = viewport.current;
    const f = frames.current[i];
    if (!vp || !f) return;
    setIndex(i);
    if ("error" in f) {
      report(`Instance ${f.instance + 1} ${f.error}`);
      return;
    }
    try {
      // Resolves once the new image is on the canvas (the render itself happens on the next animation frame).
      const drawn = new Promise<void>((resolve) => {
        const el = element.current;
        const done = () => {
          el?.removeEventListener("CORNERSTONE_IMAGE_RENDERED", done);
          resolve();
        };
        el?.addEventListener("CORNERSTONE_IMAGE_RENDERED", done);
        setTimeout(done, 1000);
      });
      const ids = frames.current.map((x) => ("imageId" in x ? x.imageId : "invalid:"));
      if (vp.getImageIds().length !== ids.length) await vp.setStack(ids, i);
      else await vp.setImageIdIndex(i);
      await drawn;
      // Decoded, but one value everywhere: say so rather than leave a flat canvas that looks like a failure.
      const img = vp.getCornerstoneImage();
      const where = `Instance ${f.instance + 1}${f.frames > 1 ? `, frame ${f.frame}` : ""}`;
      if (img && img.minPixelValue === img.maxPixelValue) report(`${where} was decoded, but every pixel has the value ${img.minPixelValue}: there is nothing to display.`);
      else if (looksBlack(element.current)) report(`${where} was decoded (values ${img?.minPixelValue} to ${img?.maxPixelValue}) but draws entirely black with its own window: try a preset or drag to window, and read its header.`);
      else report(null);
      const range = vp.getProperties().voiRange;
      if (range) setVoi(`W ${Math.round(range.upper - range.lower)} L ${Math.round((range.upper + range.lower) / 2)}`);
    } catch (e) {
      report(`Instance ${f.instance + 1}${f.frames > 1 ? `, frame ${f.frame}` : ""} cannot be displayed: ${reasonOf(e)}. This is evidence in itself (corrupt pixel data, or a transfer syntax the viewer cannot decode).`);
    }
  }, [report]);

  useEffect(() => {
    let cancelled = false;
    const started = performance.now();
    const engineId = `quarantine-${Math.random().toString(36).slice(2)}`;
    let engine: import("@cornerstonejs/core").RenderingEngine | null = null;
    // The first instance's bytes are fetched while Cornerstone initializes, not after.
    const first = new Promise<LoadedInstance>((resolveFirst) =>
      loadStack(instances, resolveFirst, (rest) =>
        void cornerstone().then(({ fileManager }) => {
          if (cancelled) return;
          frames.current = [...frames.current, ...rest.flatMap((r) => framesOf(r, fileManager.add))];
          setCount(frames.current.length);
          void show(Math.min(index, frames.current.length - 1));
        }),
      ),
    );
    performance.mark("viewer:effect");
    // A preview that failed before hydration (no onError then): the engine could not render it, show none.
    if (previewImg.current?.complete && !previewImg.current.naturalWidth) setPreviewing(false);
    void afterPreviewPainted(previewImg.current).then(importCornerstone).catch((e) => {
      report(`The viewer could not load: ${reasonOf(e)}`);
      setStatus("error");
    });
    void first.then(() => performance.mark("viewer:first-bytes"));
    void (async () => {
      const { cs, fileManager } = await cornerstone();
      performance.mark("viewer:cornerstone-ready");
      if (cancelled || !element.current) return;
      engine = new cs.RenderingEngine(engineId);
      engine.enableElement({ viewportId: "stack", type: cs.Enums.ViewportType.STACK, element: element.current });
      viewport.current = engine.getViewport("stack") as Viewport;
      const loaded = await first;
      if (cancelled) return;
      frames.current = [...framesOf(loaded, fileManager.add), ...frames.current];
      setCount(Math.max(frames.current.length, instances.length));
      await show(0);
      // The viewer's own image (or why it cannot be decoded) replaces the preview.
      setPreviewing(false);
      const ms = performance.now() - started;
      performance.mark("viewer:first-image", { detail: { ms } });
      (window as unknown as { __viewer?: unknown }).__viewer = {
        firstImageMs: ms,
        frames: () => frames.current.length,
        /** which instance (0-based, in stack order) and frame each stack position shows */
        positions: () => frames.current.map((f) => ({ instance: f.instance, frame: "frame" in f ? f.frame : 1 })),
        problem: () => problemNow.current,
        /** for the benchmark and tests: draw slice i, resolve with the time it took */
        show: async (i: number) => {
          const t = performance.now();
          await show(i);
          return performance.now() - t;
        },
      };
      setStatus("ready");
    })().catch((e) => {
      report(`The viewer could not start: ${reasonOf(e)}`);
      setPreviewing(false);
      setStatus("error");
    });
    return () => {
      cancelled = true;
      viewport.current = null;
      engine?.destroy();
    };
    // instances are fixed for the life of a review screen
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const step = useCallback((d: number) => void show(Math.max(0, Math.min(frames.current.length - 1, index + d))), [index, show]);
  const preset = useCallback((p: (typeof WL_PRESETS)[number]) => {
    viewport.current?.setProperties({ voiRange: voiOf(p) });
    viewport.current?.render();
    setVoi(`W ${p.width} L ${p.center}`);
  }, []);
  const reset = useCallback(() => {
    viewport.current?.resetProperties();
    viewport.current?.resetCamera();
    viewport.current?.render();
  }, []);
  const zoom = useCallback((factor: number) => {
    const vp = viewport.current;
    if (!vp) return;
    vp.setZoom(vp.getZoom() * factor);
    vp.render();
  }, []);

  useEffect(() => {
    if (!keyboard) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement) return;
      if (e.key === "ArrowDown" || e.key === "ArrowRight") step(1);
      else if (e.key === "ArrowUp" || e.key === "ArrowLeft") step(-1);
      else {
        const p = WL_PRESETS.find((x) => x.key === e.key);
        if (!p) return;
        preset(p);
      }
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [keyboard, step, preset]);

  // Mouse: wheel scrolls (ctrl: zoom), left-drag window/level, right- or shift-drag pans.
  const drag = useRef<{ x: number; y: number; mode: "wl" | "pan" } | null>(null);
  const onPointerDown = (e: React.PointerEvent) => {
    drag.current = { x: e.clientX, y: e.clientY, mode: e.button === 2 || e.shiftKey ? "pan" : "wl" };
    (e.target as Element).setPointerCapture?.(e.pointerId);
  };
  const onPointerMove = (e: React.PointerEvent) => {
    const d = drag.current;
    const vp = viewport.current;
    if (!d || !vp) return;
    const [dx, dy] = [e.clientX - d.x, e.clientY - d.y];
    drag.current = { ...d, x: e.clientX, y: e.clientY };
    if (d.mode === "pan") {
      const [px, py] = vp.getPan();
      vp.setPan([px + dx, py + dy]);
    } else {
      const r = vp.getProperties().voiRange;
      if (!r) return;
      const width = Math.max(1, r.upper - r.lower + dx * 4);
      const center = (r.upper + r.lower) / 2 + dy * 2;
      vp.setProperties({ voiRange: { lower: center - width / 2, upper: center + width / 2 } });
      setVoi(`W ${Math.round(width)} L ${Math.round(center)}`);
    }
    vp.render();
  };

  return (
    <div className="space-y-2" data-testid="viewer" data-state={status}>
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <span data-testid="viewer-position">
          {Math.min(index + 1, count)} / {count}
        </span>
        <button type="button" onClick={() => step(-1)} className="rounded border px-2" aria-label="Previous image">↑</button>
        <button type="button" onClick={() => step(1)} className="rounded border px-2" aria-label="Next image">↓</button>
        {WL_PRESETS.map((p) => (
          <button key={p.key} type="button" onClick={() => preset(p)} className="rounded border px-2" title={`key ${p.key}`}>
            {p.label}
          </button>
        ))}
        <button type="button" onClick={() => zoom(1.25)} className="rounded border px-2" aria-label="Zoom in">+</button>
        <button type="button" onClick={() => zoom(0.8)} className="rounded border px-2" aria-label="Zoom out">−</button>
        <button type="button" onClick={reset} className="rounded border px-2">Reset</button>
        <span className="text-slate-500" data-testid="viewer-voi">{voi}</span>
      </div>
      <div className="relative h-[512px] w-full max-w-[640px] bg-black">
        <div
          ref={element}
          data-testid="viewer-canvas"
          className="h-full w-full"
          onContextMenu={(e) => e.preventDefault()}
          onWheel={(e) => (e.ctrlKey ? zoom(e.deltaY < 0 ? 1.1 : 0.9) : step(e.deltaY > 0 ? 1 : -1))}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={() => (drag.current = null)}
        />
        {preview && previewing && (
          // A plain img, not next/image: it must show before any script runs.
          <img
            ref={previewImg}
            src={preview}
            // Empty: one the engine could not render then shows nothing (no broken-image icon, no text over the viewer).
            alt=""
            data-testid="viewer-preview"
            data-viewer-preview=""
            fetchPriority="high"
            className="pointer-events-none absolute inset-0 h-full w-full object-contain"
            onError={() => setPreviewing(false)}
            {...{ elementtiming: "viewer-preview" }}
          />
        )}
        {problem && (
          <div role="alert" data-testid="viewer-problem" className="absolute inset-0 flex items-center justify-center bg-slate-900/95 p-6 text-center text-sm text-amber-200">
            {problem}
          </div>
        )}
      </div>
    </div>
  );
}
