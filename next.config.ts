import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // A lockfile in a parent folder would otherwise make Next guess the wrong workspace root.
  turbopack: { root: import.meta.dirname },
  outputFileTracingRoot: import.meta.dirname,
  poweredByHeader: false,
  serverExternalPackages: ["postgres", "playwright-core"],
};

export default nextConfig;
