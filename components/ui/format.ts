// Small display helpers shared by the tenant pages.
export const formatBytes = (n: number) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);

export const formatTime = (iso: string | null | undefined) => (iso ? iso.replace("T", " ").slice(0, 19) + " UTC" : "—");

/** "in 6 d 23 h", "in 4 min", or "expired". */
export function formatIn(iso: string, now = Date.now()) {
  const ms = Date.parse(iso) - now;
  if (ms <= 0) return "expired";
  const m = Math.round(ms / 60_000);
  if (m < 60) return `in ${m} min`;
  const h = Math.floor(m / 60);
  return h < 24 ? `in ${h} h ${m % 60} min` : `in ${Math.floor(h / 24)} d ${h % 24} h`;
}
