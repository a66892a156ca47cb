"use client";

// The dashboard's charts (Recharts). Time runs on a numeric axis in epoch ms, labelled in UTC.
import { Area, Bar, BarChart, CartesianGrid, ComposedChart, Legend, Line, LineChart, ReferenceArea, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { BandPoint } from "@/lib/forecast";

const COLORS = ["#0369a1", "#b45309", "#047857", "#7c3aed", "#be123c", "#0f766e", "#4d7c0f", "#a21caf"];
export const when = (t: number) => new Date(t).toISOString().slice(0, 16).replace("T", " ");
const day = (t: number) => new Date(t).toISOString().slice(5, 13).replace("T", " ") + "h";

/** Remaining studies: observed so far, then the forecast's P50 and its P10–P90 band. */
export function BurnDownChart({ observed, band }: { observed: { at: number; remaining: number }[]; band: BandPoint[] }) {
  const data = [
    ...observed.map((o) => ({ at: o.at, remaining: o.remaining })),
    ...band.map((b) => ({ at: b.at, p50: Math.round(b.p50), range: [Math.round(b.p10), Math.round(b.p90)] as [number, number] })),
  ].sort((a, b) => a.at - b.at);
  return (
    <ResponsiveContainer width="100%" height={260}>
      <ComposedChart data={data} margin={{ left: 8, right: 16 }}>
        <CartesianGrid strokeDasharray="3 3" opacity={0.4} />
        <XAxis dataKey="at" type="number" scale="time" domain={["dataMin", "dataMax"]} tickFormatter={day} fontSize={11} />
        <YAxis fontSize={11} allowDecimals={false} />
        <Tooltip labelFormatter={(t) => when(Number(t))} />
        <Legend />
        <Area dataKey="range" name="P10–P90" stroke="none" fill="#7dd3fc" fillOpacity={0.4} isAnimationActive={false} connectNulls />
        <Line dataKey="p50" name="Forecast P50" stroke="#0369a1" strokeDasharray="6 3" dot={false} isAnimationActive={false} connectNulls />
        <Line dataKey="remaining" name="Remaining" stroke="#0f172a" dot={false} isAnimationActive={false} connectNulls />
      </ComposedChart>
    </ResponsiveContainer>
  );
}

/** Studies per hour per source (stacked) and bytes per hour, with the scheduled windows shaded. */
export function ThroughputChart({ rows, sources, open }: { rows: Record<string, number | string>[]; sources: string[]; open: { from: number; to: number }[] }) {
  const data = rows.map((r) => ({ ...r, at: Date.parse(String(r.bucket)), mb: Math.round(Number(r.bytes) / 1e5) / 10 }));
  return (
    <ResponsiveContainer width="100%" height={240}>
      <ComposedChart data={data} margin={{ left: 8, right: 16 }}>
        <CartesianGrid strokeDasharray="3 3" opacity={0.4} />
        <XAxis dataKey="at" type="number" scale="time" domain={["dataMin - 3600000", "dataMax + 3600000"]} tickFormatter={day} fontSize={11} />
        <YAxis yAxisId="studies" fontSize={11} allowDecimals={false} label={{ value: "studies/h", angle: -90, position: "insideLeft", fontSize: 11 }} />
        <YAxis yAxisId="mb" orientation="right" fontSize={11} label={{ value: "MB/h", angle: 90, position: "insideRight", fontSize: 11 }} />
        <Tooltip labelFormatter={(t) => when(Number(t))} />
        <Legend />
        {open.map((w) => (
          <ReferenceArea key={w.from} yAxisId="studies" x1={w.from} x2={w.to} fill="#34d399" fillOpacity={0.12} ifOverflow="hidden" />
        ))}
        {sources.map((s, i) => (
          <Bar key={s} yAxisId="studies" dataKey={s} name={`${s} studies`} stackId="s" fill={COLORS[i % COLORS.length]} isAnimationActive={false} barSize={8} />
        ))}
        <Line yAxisId="mb" dataKey="mb" name="MB" stroke="#64748b" dot={false} isAnimationActive={false} />
      </ComposedChart>
    </ResponsiveContainer>
  );
}

export function BreakdownChart({ rows }: { rows: { name: string; done: number; remaining: number }[] }) {
  return (
    <ResponsiveContainer width="100%" height={Math.max(120, rows.length * 28 + 60)}>
      <BarChart data={rows} layout="vertical" margin={{ left: 24, right: 16 }}>
        <CartesianGrid strokeDasharray="3 3" opacity={0.4} />
        <XAxis type="number" fontSize={11} allowDecimals={false} />
        <YAxis type="category" dataKey="name" fontSize={11} width={80} />
        <Tooltip />
        <Legend />
        <Bar dataKey="done" name="Done" stackId="b" fill="#047857" isAnimationActive={false} />
        <Bar dataKey="remaining" name="Remaining" stackId="b" fill="#cbd5e1" isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}

export function QuarantineChart({ rows, categories }: { rows: Record<string, string | number>[]; categories: string[] }) {
  const data = rows.map((r) => ({ ...r, at: Date.parse(String(r.bucket)) }));
  return (
    <ResponsiveContainer width="100%" height={200}>
      <LineChart data={data} margin={{ left: 8, right: 16 }}>
        <CartesianGrid strokeDasharray="3 3" opacity={0.4} />
        <XAxis dataKey="at" type="number" scale="time" domain={["dataMin", "dataMax"]} tickFormatter={day} fontSize={11} />
        <YAxis fontSize={11} allowDecimals={false} />
        <Tooltip labelFormatter={(t) => when(Number(t))} />
        <Legend />
        {categories.map((c, i) => (
          <Line key={c} type="stepAfter" dataKey={c} stroke={COLORS[(i + 4) % COLORS.length]} dot={false} isAnimationActive={false} />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}
