// Cornerstone's modules, handed over by cornerstone-boot.ts once its chunk has loaded (see there for why).
type Modules = { cs: typeof import("@cornerstonejs/core"); loader: typeof import("@cornerstonejs/dicom-image-loader") };

let provide!: (m: Modules) => void;
export const cornerstoneModules = new Promise<Modules>((resolve) => (provide = resolve));
export const provideCornerstone = (m: Modules) => provide(m);
