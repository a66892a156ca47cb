/** Window/level presets (keys 1-4): width and center in Hounsfield units for CT; for others the image's own is reset. */
export const WL_PRESETS = [
  { key: "1", label: "Soft tissue", width: 400, center: 40 },
  { key: "2", label: "Lung", width: 1500, center: -600 },
  { key: "3", label: "Bone", width: 1800, center: 400 },
  { key: "4", label: "Brain", width: 80, center: 40 },
] as const;
export const voiOf = (p: { width: number; center: number }) => ({ lower: p.center - p.width / 2, upper: p.center + p.width / 2 });
