"use client";

// Loaded through next/dynamic with server rendering on, so the page's HTML carries preload links for Cornerstone's
// chunks and the browser fetches and compiles them while the rest of the page loads, instead of after hydration.
// It renders nothing; in the browser it hands the modules to the viewer.
import * as cs from "@cornerstonejs/core";
import * as loader from "@cornerstonejs/dicom-image-loader";
import { provideCornerstone } from "./cornerstone-registry";

if (typeof window !== "undefined") provideCornerstone({ cs, loader });

export default function CornerstoneBoot() {
  return null;
}
