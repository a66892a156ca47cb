export const CATEGORY_LABELS: Record<string, string> = {
  hash_mismatch: "Hash mismatch",
  malformed_header: "Malformed header",
  character_set: "Character set",
  corrupt_pixel_data: "Corrupt pixel data",
  transform_error: "Transform error",
  target_rejected: "Target rejected",
  source_unavailable: "Source unavailable",
  incomplete_study: "Incomplete study",
  duplicate_uid: "Duplicate SOP instance UID",
};
export const categoryLabel = (c: string) => CATEGORY_LABELS[c] ?? c;

/** Items waiting longer than this are highlighted in the queue. */
export const AGE_HIGHLIGHT_DAYS = 3;

export function ageOf(iso: string | null, now = Date.now()) {
  if (!iso) return { label: "—", old: false };
  const h = Math.max(0, (now - Date.parse(iso)) / 3_600_000);
  return { label: h < 1 ? `${Math.round(h * 60)} min` : h < 48 ? `${Math.round(h)} h` : `${Math.floor(h / 24)} d`, old: h / 24 > AGE_HIGHLIGHT_DAYS };
}

export const MEANING_PRESETS = {
  repair: "I approve this repair",
  retry: "I confirm this study is retried unchanged",
  skip: "I confirm this study is excluded",
  escalate: "I refer this study to a senior reviewer",
} as const;
