import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // A lockfile in a parent folder would otherwise make Next guess the wrong workspace root.
  // The DICOM image loader's codecs name Node's fs; in the browser it is an empty module.
  turbopack: { root: import.meta.dirname, resolveAlias: { fs: { browser: "./components/viewer/empty-module.ts" } } },
  outputFileTracingRoot: import.meta.dirname,
  poweredByHeader: false,
  serverExternalPackages: ["postgres", "playwright-core"],
};

export default nextConfig;
