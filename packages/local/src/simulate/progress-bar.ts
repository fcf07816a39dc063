import cliProgress from "cli-progress";
import type { SimulationProgress } from "./run-simulation.ts";

export interface ProgressDisplay {
  update(progress: SimulationProgress): void;
  stop(): void;
}

const noop: ProgressDisplay = { update: () => {}, stop: () => {} };

/**
 * A progress bar on stderr (stdout stays clean for the summary and `--json`); nothing when stderr is not a
 * terminal. A run without a total (until Ctrl-C) shows counters without a bar.
 */
export function createProgressDisplay(
  total: number,
  options: { enabled: boolean; stream?: NodeJS.WriteStream } = { enabled: true },
): ProgressDisplay {
  const stream = options.stream ?? process.stderr;
  if (!options.enabled || stream.isTTY !== true) return noop;
  const bounded = Number.isFinite(total);
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: bounded
        ? "simulate |{bar}| {percentage}% | {value}/{total} msgs | {rate} msg/s | failed {failed} | in flight {inFlight} | anomalies {labels}"
        : "simulate | {value} msgs | {rate} msg/s | failed {failed} | in flight {inFlight} | anomalies {labels} | Ctrl-C stops",
      hideCursor: true,
      clearOnComplete: false,
      fps: 5,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(bounded ? total : 0, 0, { rate: "0", failed: 0, inFlight: 0, labels: 0 });
  return {
    update(progress) {
      const seconds = progress.elapsedMs / 1000;
      bar.update(progress.slots, {
        rate: seconds > 0 ? (progress.attempted / seconds).toFixed(0) : "0",
        failed: progress.failed,
        inFlight: progress.inFlight,
        labels: progress.labels,
      });
    },
    stop() {
      bar.stop();
    },
  };
}
