// The weekly stakeholder report: its content (computed once, kept) and its one rendering as an HTML document,
// which the console page shows and the worker prints to PDF — the same content by construction.
import { backtestFor, burnDownObserved, forecastFor, quarantineDepth, remainingOf, type Dashboard } from "./dashboard-model";

const DAY = 86_400_000;

export type ReportContent = ReturnType<typeof reportContent>;

/** The last independent reconciliation (null: not run yet) and how many instances the verification report holds. */
type Closeout = { reconciliation: { reconciledAt: string; balanced: boolean; differences: { message: string }[] } | null; verifiedInstances: number } | null;

export function reportContent(d: Dashboard, now: number, periodStart: number, closeout: Closeout = null) {
  const m = d.migration;
  const f = forecastFor(d, now);
  const inPeriod = (iso: string) => Date.parse(iso) >= periodStart && Date.parse(iso) < now;
  const daily = new Map<string, { studies: number; bytes: number }>();
  for (const h of d.hourly.filter((h) => inPeriod(h.bucket))) {
    const day = h.bucket.slice(0, 10);
    const cur = daily.get(day) ?? { studies: 0, bytes: 0 };
    cur.studies += h.migrated;
    cur.bytes += h.bytes;
    daily.set(day, cur);
  }
  const decisions = d.events.filter((e) => inPeriod(e.createdAt) && /study_(skipped|repaired|escalated)$/.test(e.type));
  const notable = d.events.filter((e) => inPeriod(e.createdAt) && !decisions.includes(e));
  return {
    migration: { id: m.id, name: m.plan.name, status: m.status },
    period: { from: new Date(periodStart).toISOString(), to: new Date(now).toISOString() },
    counts: m.counts,
    remaining: remainingOf(m.counts),
    forecast: { p50: f.finish.p50, p85: f.finish.p85, p95: f.finish.p95, runs: f.runs, samples: f.samples },
    burnDown: { observed: burnDownObserved(d, now).filter((p) => p.at >= now - 28 * DAY), band: f.band },
    backtest: backtestFor(d, now),
    throughput: [...daily.entries()].sort().map(([day, v]) => ({ day, ...v })),
    quarantine: quarantineDepth(d).current,
    decisions: decisions.map((e) => ({ at: e.createdAt, type: e.type.replace("migration.study_", ""), reason: String(e.payload.reason ?? ""), by: String((e.payload.signer as { name?: string } | undefined)?.name ?? "") })),
    events: notable.map((e) => ({ at: e.createdAt, type: e.type.replace("migration.", "").replaceAll("_", " "), by: String((e.payload.changedBy as { name?: string } | undefined)?.name ?? "") })),
    closeout,
  };
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const when = (t: number | string | null) => (t === null ? "no finish in sight" : new Date(t).toISOString().slice(0, 16).replace("T", " ") + " UTC");

/** The burn-down as an SVG: observed remaining (solid), forecast P50 (dashed) inside its P10–P90 band. */
function burnDownSvg(c: ReportContent) {
  const W = 680;
  const H = 220;
  const pts = [...c.burnDown.observed.map((p) => ({ at: p.at, y: p.remaining })), ...c.burnDown.band.map((b) => ({ at: b.at, y: b.p90 }))];
  if (pts.length < 2) return `<p>Not enough history for a chart yet.</p>`;
  const t0 = Math.min(...pts.map((p) => p.at));
  const t1 = Math.max(...pts.map((p) => p.at));
  const yMax = Math.max(1, ...pts.map((p) => p.y));
  const x = (t: number) => 40 + ((t - t0) / Math.max(1, t1 - t0)) * (W - 50);
  const y = (v: number) => H - 20 - (v / yMax) * (H - 30);
  const line = (ps: { at: number; v: number }[]) => ps.map((p, i) => `${i ? "L" : "M"}${x(p.at).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
  const band = c.burnDown.band;
  const area = band.length ? `${line(band.map((b) => ({ at: b.at, v: b.p90 })))} ${band.map((b) => `L${x(b.at).toFixed(1)},${y(b.p10).toFixed(1)}`).reverse().join(" ")} Z` : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="Burn-down">
  <rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>
  <line x1="40" y1="${H - 20}" x2="${W - 10}" y2="${H - 20}" stroke="#94a3b8"/><line x1="40" y1="10" x2="40" y2="${H - 20}" stroke="#94a3b8"/>
  <text x="4" y="16" font-size="10" fill="#475569">${yMax}</text><text x="4" y="${H - 22}" font-size="10" fill="#475569">0</text>
  <text x="40" y="${H - 4}" font-size="10" fill="#475569">${esc(when(t0))}</text><text x="${W - 150}" y="${H - 4}" font-size="10" fill="#475569">${esc(when(t1))}</text>
  ${area ? `<path d="${area}" fill="#7dd3fc" fill-opacity="0.45" stroke="none"/>` : ""}
  ${band.length ? `<path d="${line(band.map((b) => ({ at: b.at, v: b.p50 })))}" fill="none" stroke="#0369a1" stroke-width="2" stroke-dasharray="6 3"/>` : ""}
  <path d="${line(c.burnDown.observed.map((p) => ({ at: p.at, v: p.remaining })))}" fill="none" stroke="#0f172a" stroke-width="2"/>
</svg>`;
}

const table = (head: string[], rows: unknown[][]) =>
  `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.length ? rows.map((r) => `<tr>${r.map((v) => `<td>${esc(v)}</td>`).join("")}</tr>`).join("") : `<tr><td colspan="${head.length}">none</td></tr>`}</tbody></table>`;

/** The report's body (for the page) and a whole document around it (for the PDF). */
export function reportHtml(c: ReportContent) {
  const done = c.counts.migrated + c.counts.quarantined + c.counts.skipped;
  const pct = c.counts.discovered ? Math.floor((done / c.counts.discovered) * 100) : 0;
  const body = `<article class="report">
<h1>${esc(c.migration.name)} — weekly report</h1>
<p class="muted">${esc(when(c.period.from))} to ${esc(when(c.period.to))} · status ${esc(c.migration.status)}</p>
<h2>Progress</h2>
<p><b>${pct} %</b>: ${done} of ${c.counts.discovered} studies done (${c.counts.migrated} migrated, ${c.counts.quarantined} quarantined, ${c.counts.skipped} skipped); ${c.remaining} remaining.</p>
<h2>Burn-down and forecast</h2>
${burnDownSvg(c)}
<p>Finish: P50 <b>${esc(when(c.forecast.p50))}</b> · P85 ${esc(when(c.forecast.p85))} · P95 ${esc(when(c.forecast.p95))} (${c.forecast.runs} Monte Carlo runs over ${c.forecast.samples} worked hours).</p>
<h3>Back-test: how far off were earlier forecasts</h3>
${table(["made", "said done by now (P50)", "actually done", "error"], c.backtest.map((b) => [`${b.daysAgo} d ago`, b.predictedDone, b.actualDone, b.doneError === null ? "—" : `${Math.round(b.doneError * 100)} %`]))}
<h2>Throughput this period</h2>
${table(["day (UTC)", "studies", "MB"], c.throughput.map((t) => [t.day, t.studies, Math.round(t.bytes / 1e6)]))}
<h2>Quarantine by category</h2>
${table(["category", "studies now"], Object.entries(c.quarantine).map(([k, v]) => [k.replaceAll("_", " "), v]))}
<h2>Decisions taken</h2>
${table(["when", "decision", "by", "reason"], c.decisions.map((x) => [when(x.at), x.type, x.by, x.reason]))}
<h2>Notable events</h2>
${table(["when", "event", "by"], c.events.map((x) => [when(x.at), x.type, x.by]))}
${
  c.closeout
    ? `<h2>Closeout</h2>
${
  c.closeout.reconciliation
    ? `<p>Reconciliation (source and target inventoried again, ${when(Date.parse(c.closeout.reconciliation.reconciledAt))}): ${c.closeout.reconciliation.balanced ? "balanced" : "NOT balanced"}.</p>
${table(["difference"], c.closeout.reconciliation.differences.map((x) => [x.message]))}`
    : "<p>Reconciliation: not run yet.</p>"
}
<p>Verification: ${c.closeout.verifiedInstances} instances verified at the target when migrated. The per-instance report (CSV, JSON) is downloadable from the migration's page.</p>`
    : ""
}
</article>`;
  const style = `body{font-family:system-ui,sans-serif;color:#0f172a;margin:24px}h1{font-size:22px}h2{font-size:16px;margin-top:18px}h3{font-size:13px}
table{border-collapse:collapse;font-size:12px;margin:4px 0}th,td{border:1px solid #cbd5e1;padding:2px 6px;text-align:left}.muted{color:#64748b;font-size:12px}`;
  return { body, document: `<!doctype html><html><head><meta charset="utf-8"><title>${esc(c.migration.name)} — weekly report</title><style>${style}</style></head><body>${body}</body></html>` };
}
