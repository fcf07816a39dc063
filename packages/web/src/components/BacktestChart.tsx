import type { BacktestResult } from "../api.ts";

const HOUR_MS = 3_600_000;
const WIDTH = 720;
const HEIGHT = 200;
const PAD = { left: 36, right: 8, top: 12, bottom: 28 };

/** Hour starts (ms, UTC) from the hour holding `fromMs` to the one holding `toMs - 1`. */
function hoursOf(fromMs: number, toMs: number): number[] {
  const hours: number[] = [];
  for (let h = Math.floor(fromMs / HOUR_MS) * HOUR_MS; h < toMs; h += HOUR_MS) hours.push(h);
  return hours;
}

const hourKey = (ms: number) => new Date(ms).toISOString();
const hourLabel = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/**
 * The backtest's alerts per hour of the range, current rules beside the candidate (the answer's `byHour`), as an
 * SVG bar chart. Bars are drawn only where an hour had alerts; the y axis is labelled with its maximum.
 */
export function BacktestChart({ result }: { result: BacktestResult }) {
  if (!result.from || !result.to) return null;
  const fromMs = Date.parse(result.from);
  const toMs = Date.parse(result.to);
  const hours = hoursOf(fromMs, toMs);
  if (hours.length === 0) return null;
  const current = result.current.byHour ?? {};
  const candidate = result.candidate.byHour ?? {};
  const max = Math.max(
    1,
    ...hours.map((h) => Math.max(current[hourKey(h)] ?? 0, candidate[hourKey(h)] ?? 0)),
  );
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / hours.length;
  const bar = Math.max(1, slot * 0.38);
  const y = (n: number) => PAD.top + plotH - (n / max) * plotH;
  const labelEvery = Math.max(1, Math.ceil(hours.length / 8));
  const total = (side: Record<string, number>) => Object.values(side).reduce((a, b) => a + b, 0);
  return (
    <figure className="backtest-chart" data-testid="backtest-chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        role="img"
        aria-label={`Alerts per hour, ${result.from} to ${result.to}: current rules ${total(current)}, with the change ${total(candidate)}`}
      >
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(0)} y2={y(0)} className="axis" />
        <line x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={y(0)} className="axis" />
        <text x={PAD.left - 4} y={y(max) + 4} textAnchor="end" className="tick">
          {max}
        </text>
        <text x={PAD.left - 4} y={y(0)} textAnchor="end" className="tick">
          0
        </text>
        {hours.map((h, i) => {
          const x = PAD.left + i * slot + slot / 2;
          const c = current[hourKey(h)] ?? 0;
          const k = candidate[hourKey(h)] ?? 0;
          return (
            <g key={h}>
              {c > 0 && (
                <rect x={x - bar} y={y(c)} width={bar} height={y(0) - y(c)} className="bar-current">
                  <title>{`${hourLabel(h)} UTC: ${c} with the current rules`}</title>
                </rect>
              )}
              {k > 0 && (
                <rect x={x} y={y(k)} width={bar} height={y(0) - y(k)} className="bar-candidate">
                  <title>{`${hourLabel(h)} UTC: ${k} with the change`}</title>
                </rect>
              )}
              {i % labelEvery === 0 && (
                <text x={x} y={HEIGHT - 10} textAnchor="middle" className="tick">
                  {hourLabel(h)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        Alerts per hour (UTC): <span className="key-current">■</span> current rules{" "}
        <span className="key-candidate">■</span> with the change
      </figcaption>
    </figure>
  );
}
