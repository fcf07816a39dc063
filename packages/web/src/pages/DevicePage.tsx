import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import type uPlot from "uplot";
import { api, type Incident, type Scoped, type WindowMetric } from "../api.ts";
import { ago, ErrorNote, fmtTime, Loading, StateBadge } from "../components/Common.tsx";
import { TimeChart, type Marker } from "../components/TimeChart.tsx";
import { LIVE_MS } from "../live.ts";
import { incidentsQuery } from "../queries.ts";

const RANGES = [
  { label: "Last hour", ms: 3_600_000 },
  { label: "Last 6 hours", ms: 6 * 3_600_000 },
  { label: "Last 24 hours", ms: 24 * 3_600_000 },
  { label: "Last 7 days", ms: 7 * 24 * 3_600_000 },
];

const sec = (iso: string) => Date.parse(iso) / 1000;

/** Incidents (dashed: red while active, grey once resolved) and their later alerts (dotted orange) on the time axis. */
function incidentMarkers(incidents: Incident[]): Marker[] {
  return incidents.flatMap((i) => [
    {
      at: sec(i.openedAt),
      label: `${i.rule} opened (${i.state})`,
      color: i.state === "resolved" ? "#5c6b7a" : "#b3261e",
    },
    ...i.timeline
      .filter((t) => t.type === "occurrence")
      .map((t) => ({ at: sec(t.at), label: `${i.rule} alert`, color: "#c25e00", dash: [2, 3] })),
  ]);
}

const aggregateSeries: uPlot.Series[] = [
  { label: "avg", stroke: "#0b5cad", width: 2 },
  { label: "min", stroke: "#6b8fb8", width: 1 },
  { label: "max", stroke: "#6b8fb8", width: 1 },
  {
    label: "anomalous window",
    stroke: "#b3261e",
    width: 0,
    paths: () => null,
    points: { show: true, size: 9, fill: "#b3261e", stroke: "#b3261e" },
  },
];
const aggregateBands: uPlot.Band[] = [{ series: [3, 2], fill: "rgba(11, 92, 173, 0.15)" }];
const boundSeries = (side: "min" | "max"): uPlot.Series => ({
  label: `${side} bound`,
  stroke: "#b3261e",
  dash: [8, 4],
  width: 1,
  points: { show: false },
});

interface Bound {
  min?: number;
  max?: number;
}

function MetricChart({
  metric,
  rows,
  markers,
  bound,
}: {
  metric: string;
  rows: WindowMetric[];
  markers: Marker[];
  bound: Bound;
}) {
  const { min, max } = bound;
  const data = useMemo<uPlot.AlignedData>(() => {
    const cols: (number | null)[][] = [
      rows.map((r) => r.avg),
      rows.map((r) => r.min),
      rows.map((r) => r.max),
      rows.map((r) => (r.anomalies > 0 ? r.avg : null)),
    ];
    // Effective bounds as flat lines, so a reading beyond them is visible at a glance.
    if (min !== undefined) cols.push(rows.map(() => min));
    if (max !== undefined) cols.push(rows.map(() => max));
    return [rows.map((r) => sec(r.windowStart)), ...cols];
  }, [rows, min, max]);
  const series = useMemo<uPlot.Series[]>(
    () => [
      ...aggregateSeries,
      ...(min !== undefined ? [boundSeries("min")] : []),
      ...(max !== undefined ? [boundSeries("max")] : []),
    ],
    [min, max],
  );
  const anomalous = rows.filter((r) => r.anomalies > 0).length;
  const limits = [min !== undefined ? `min bound ${min}` : "", max !== undefined ? `max bound ${max}` : ""]
    .filter(Boolean)
    .join(", ");
  return (
    <TimeChart
      title={`${metric}: window average with min–max band`}
      summary={`${rows.length} windows, ${anomalous} anomalous; last average ${rows.at(-1)?.avg.toFixed(3) ?? "none"}${limits ? `; ${limits}` : ""}`}
      data={data}
      series={series}
      bands={aggregateBands}
      markers={markers}
    />
  );
}

/** Scores from 0, up to the highest score or threshold with some headroom (not uPlot's 0–100 for an all-zero run). */
const scoreRange = (_min: number, max: number): [number, number] => [0, Math.max(max, 1) * 1.1];

function ScoreChart({
  rows,
  threshold,
  markers,
}: {
  rows: WindowMetric[];
  threshold: number | null;
  markers: Marker[];
}) {
  // Max score per window over every metric of the device (windows share their start).
  const { data, windows, highest } = useMemo(() => {
    const byWindow = new Map<number, number>();
    for (const r of rows)
      byWindow.set(sec(r.windowStart), Math.max(byWindow.get(sec(r.windowStart)) ?? 0, r.maxScore));
    const xs = [...byWindow.keys()].sort((a, b) => a - b);
    const cols: (number | null)[][] = [xs.map((x) => byWindow.get(x) ?? null)];
    if (threshold !== null) cols.push(xs.map(() => threshold));
    return {
      data: [xs, ...cols] as uPlot.AlignedData,
      windows: xs.length,
      highest: Math.max(0, ...byWindow.values()),
    };
  }, [rows, threshold]);
  const series = useMemo<uPlot.Series[]>(
    () => [
      { label: "max score", stroke: "#7a3db8", width: 2 },
      ...(threshold !== null ? [{ label: "score threshold", stroke: "#b3261e", dash: [4, 4] }] : []),
    ],
    [threshold],
  );
  return (
    <TimeChart
      title="Max anomaly score per window"
      summary={`${windows} windows; highest ${highest.toFixed(3)}`}
      data={data}
      series={series}
      markers={markers}
      yRange={scoreRange}
    />
  );
}

function ScopedValue({ v, unset = "not set" }: { v: Scoped<unknown> | null | undefined; unset?: string }) {
  if (!v) return <span className="muted">{unset}</span>;
  return (
    <>
      <strong>{typeof v.value === "object" ? JSON.stringify(v.value) : String(v.value)}</strong>{" "}
      <span className="scope">from {v.scope}</span>
    </>
  );
}

/** Device: charts of window aggregates and scores over a chosen range, incidents on the time axis, thresholds. */
export function DevicePage() {
  const deviceId = decodeURIComponent(useParams().deviceId ?? "");
  const [rangeMs, setRangeMs] = useState(RANGES[0].ms);
  const device = useQuery({
    queryKey: ["device", deviceId],
    queryFn: () => api.device(deviceId),
    refetchInterval: LIVE_MS,
  });
  const metrics = useQuery({
    queryKey: ["metrics", deviceId, rangeMs],
    queryFn: () => {
      const to = new Date();
      return api.metrics(deviceId, new Date(to.getTime() - rangeMs).toISOString(), to.toISOString());
    },
    refetchInterval: LIVE_MS,
  });
  const effective = useQuery({ queryKey: ["effective", deviceId], queryFn: () => api.effective(deviceId) });
  const incidents = useQuery(incidentsQuery({ deviceId }));
  const markers = useMemo(() => incidentMarkers(incidents.data ?? []), [incidents.data]);
  const byMetric = useMemo(() => {
    const groups = new Map<string, WindowMetric[]>();
    for (const r of [...(metrics.data ?? [])].sort((a, b) => a.windowStart.localeCompare(b.windowStart))) {
      groups.set(r.metric, [...(groups.get(r.metric) ?? []), r]);
    }
    return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [metrics.data]);
  const eff = effective.data;
  return (
    <>
      <p>
        <Link to="/">← Fleet</Link>
      </p>
      <h1>Device {deviceId}</h1>
      <ErrorNote error={device.error} />
      {device.data && (
        <p className="meta">
          {device.data.manufacturer} · {device.data.model} · site {device.data.site ?? "—"} · last seen{" "}
          <span title={fmtTime(device.data.lastSeen)}>{ago(device.data.lastSeen)}</span> ·{" "}
          {device.data.openIncidents} open incident{device.data.openIncidents === 1 ? "" : "s"}
        </p>
      )}
      <div className="layout-2">
        <section className="card charts" aria-labelledby="charts-h">
          <div className="row">
            <h2 id="charts-h">Windows</h2>
            <label>
              Range
              <select value={rangeMs} onChange={(e) => setRangeMs(Number(e.target.value))}>
                {RANGES.map((r) => (
                  <option key={r.ms} value={r.ms}>
                    {r.label}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <p className="legend-note">
            Shaded band: each window's min–max. Red points: windows with anomalous readings. Red dashed
            horizontal lines: effective bounds. Vertical lines: incidents opened (dashed; red while active,
            grey once resolved) and their later alerts (dotted orange).
          </p>
          <ErrorNote error={metrics.error} />
          {metrics.isPending && <Loading what="window aggregates" />}
          {metrics.data && byMetric.length === 0 && (
            <p data-testid="no-windows">No closed windows in this range yet.</p>
          )}
          {byMetric.length > 0 && (
            <div data-testid="charts">
              {byMetric.map(([metric, rows]) => (
                <MetricChart
                  key={metric}
                  metric={metric}
                  rows={rows}
                  markers={markers}
                  bound={{ min: eff?.bounds[metric]?.min?.value, max: eff?.bounds[metric]?.max?.value }}
                />
              ))}
              <ScoreChart
                rows={metrics.data ?? []}
                threshold={eff?.scoreThreshold?.value ?? null}
                markers={markers}
              />
            </div>
          )}
        </section>
        <div>
          <section className="card" aria-labelledby="eff-h">
            <h2 id="eff-h">Effective thresholds</h2>
            <ErrorNote error={effective.error} />
            {eff && (
              <>
                <p className="muted">Looked up in {eff.scopes.join(" › ")}; the most specific scope wins.</p>
                <table data-testid="effective">
                  <caption className="sr-only">Effective thresholds and the scope each comes from</caption>
                  <tbody>
                    {Object.entries(eff.bounds).flatMap(([metric, b]) =>
                      (["min", "max"] as const)
                        .filter((side) => b[side])
                        .map((side) => (
                          <tr key={`${metric}.${side}`}>
                            <th scope="row">
                              {metric} {side}
                            </th>
                            <td>
                              <ScopedValue v={b[side]} />
                            </td>
                          </tr>
                        )),
                    )}
                    <tr>
                      <th scope="row">score threshold</th>
                      <td>
                        <ScopedValue
                          v={eff.scoreThreshold}
                          unset="adaptive (not set: the detector grades its own scores)"
                        />
                      </td>
                    </tr>
                    <tr>
                      <th scope="row">silence windows</th>
                      <td>
                        <ScopedValue v={eff.silenceWindows} />
                      </td>
                    </tr>
                    <tr>
                      <th scope="row">stuck readings</th>
                      <td>
                        <ScopedValue v={eff.stuckReadings} />
                      </td>
                    </tr>
                  </tbody>
                </table>
                <p>
                  <Link to={`/thresholds?scope=${encodeURIComponent(`devices/${deviceId}`)}`}>
                    Edit this device's thresholds
                  </Link>
                </p>
              </>
            )}
          </section>
          <section className="card" aria-labelledby="inc-h">
            <h2 id="inc-h">Incidents</h2>
            <ErrorNote error={incidents.error} />
            <ul className="plain">
              {(incidents.data ?? []).map((i) => (
                <li key={i.id}>
                  <StateBadge state={i.state} />{" "}
                  <Link to={`/incidents/${encodeURIComponent(i.id)}`}>{i.rule}</Link>{" "}
                  <span className="muted">opened {fmtTime(i.openedAt)}</span>
                </li>
              ))}
              {incidents.data?.length === 0 && <li className="muted">None.</li>}
            </ul>
          </section>
        </div>
      </div>
    </>
  );
}
