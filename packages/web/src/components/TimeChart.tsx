import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Marker {
  /** Unix seconds. */
  at: number;
  label: string;
  color: string;
  /** Dash pattern in CSS pixels (default 6 on, 4 off). */
  dash?: number[];
}

export interface TimeChartProps {
  title: string;
  /** Short text alternative for screen readers (what the chart shows, in numbers). */
  summary: string;
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  bands?: uPlot.Band[];
  markers?: Marker[];
  height?: number;
  /** Fixed y range (e.g. scores from 0); default: uPlot's auto range. */
  yRange?: (min: number, max: number) => [number, number];
}

/** Vertical lines for alerts and incidents on the time axis (drawn on uPlot's canvas after the series). */
function markerPlugin(markers: Marker[]): uPlot.Plugin {
  return {
    hooks: {
      draw: [
        (u) => {
          const { ctx } = u;
          const { top, height } = u.bbox;
          ctx.save();
          for (const m of markers) {
            const x = Math.round(u.valToPos(m.at, "x", true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.strokeStyle = m.color;
            ctx.lineWidth = 2 * uPlot.pxRatio;
            ctx.setLineDash((m.dash ?? [6, 4]).map((n) => n * uPlot.pxRatio));
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
          }
          ctx.restore();
        },
      ],
    },
  };
}

/** A uPlot time-series chart that follows its container's width. */
export function TimeChart({
  title,
  summary,
  data,
  series,
  bands,
  markers = [],
  height = 220,
  yRange,
}: TimeChartProps) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 300),
        height,
        series: [{}, ...series],
        bands,
        axes: [{}, { size: 60 }],
        scales: {
          x: { time: true },
          ...(yRange ? { y: { range: (_u: uPlot, min: number, max: number) => yRange(min, max) } } : {}),
        },
        legend: { live: true },
        plugins: [markerPlugin(markers)],
      },
      data,
      el,
    );
    const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 300), height }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [data, series, bands, markers, height, yRange]);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={host} role="img" aria-label={`${title}: ${summary}`} />
    </figure>
  );
}
