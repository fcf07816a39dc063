import type { Command } from "commander";

/** Thrown for anything the user can fix; printed without a stack. */
class ReplayCommandError extends Error {
  override name = "ReplayCommandError";
}

function timeOf(name: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms))
    throw new ReplayCommandError(`--${name} must be an ISO 8601 time or epoch ms, got "${value}"`);
  return ms;
}

export function registerReplay(program: Command): void {
  const replay = program
    .command("replay")
    .description(
      "Reprocess a range of the lake through the scoring path into lake/replays/<label>/ (scores, window aggregates, alerts); live models, metrics and incidents are never touched",
    )
    .option("--from <time>", "range start, event time (ISO 8601 or epoch ms)")
    .option("--to <time>", "range end, exclusive")
    .option("--devices <ids>", "comma-separated device ids (default: every device)")
    .option(
      "--detector <spec>",
      'forest preset (kda, library) or the JSON of detector options {forest?, thresholder?, normalize?}, e.g. \'{"forest":{"numberOfTrees":50}}\'',
    )
    .option("--label <name>", "name of the replay (a directory under lake/replays/)")
    .option(
      "--rules <file>",
      "threshold rules to apply, JSON [{scope, bounds?, scoreThreshold?, …}] (default: none)",
    )
    .option("--no-progress", "no progress bar")
    .action(
      async (options: {
        from?: string;
        to?: string;
        devices?: string;
        detector?: string;
        label?: string;
        rules?: string;
        progress: boolean;
      }) => {
        if (!options.from || !options.to || !options.label) {
          throw new ReplayCommandError(
            "replay needs --from, --to and --label (or: replay compare <labelA> <labelB>)",
          );
        }
        const fromMs = timeOf("from", options.from);
        const toMs = timeOf("to", options.to);
        if (fromMs >= toMs) throw new ReplayCommandError("--from must be before --to");
        const path = await import("node:path");
        const { readLocalConfig } = await import("../../runtime/config.ts");
        const { runReplay, readRulesFile, replayLabelSchema } = await import("../../lake/replay-run.ts");
        const label = replayLabelSchema.safeParse(options.label);
        if (!label.success) throw new ReplayCommandError(`--label: ${label.error.issues[0].message}`);
        const config = readLocalConfig();
        const cliProgress = (await import("cli-progress")).default;
        const bar =
          options.progress && process.stderr.isTTY
            ? new cliProgress.SingleBar(
                {
                  stream: process.stderr,
                  format: "replay |{bar}| {percentage}% | {value}/{total} readings",
                  fps: 5,
                },
                cliProgress.Presets.shades_classic,
              )
            : undefined;
        let started = false;
        const manifest = await runReplay({
          lakeDir: path.join(config.dataDir, "lake"),
          label: label.data,
          fromMs,
          toMs,
          deviceIds: options.devices
            ?.split(",")
            .map((s) => s.trim())
            .filter(Boolean),
          detector: options.detector,
          rules: options.rules ? readRulesFile(options.rules) : undefined,
          windowMs: config.windowSeconds * 1000,
          silenceWindows: Number(process.env.DRIFTWATCH_SILENCE_WINDOWS || 3),
          maxReadings: process.env.DRIFTWATCH_REPLAY_MAX_READINGS
            ? Number(process.env.DRIFTWATCH_REPLAY_MAX_READINGS)
            : undefined,
          onProgress: (done, total) => {
            if (!bar) return;
            if (!started) bar.start(total, 0);
            started = true;
            bar.update(done);
          },
        }).finally(() => bar?.stop());
        process.stdout.write(
          `replay ${manifest.label}: ${manifest.readings} readings (${manifest.duplicates} duplicates dropped), ` +
            `${manifest.alerts} alerts, detector ${manifest.detector} → ${path.join(config.dataDir, "lake", "replays", manifest.label)}\n`,
        );
      },
    );
  replay
    .command("compare <labelA> <labelB>")
    .description("Print, per device and rule, where two replays disagree (alerts in windows only one raised)")
    .option("--json", "print the differences as JSON")
    .action(async (labelA: string, labelB: string, options: { json?: boolean }) => {
      const path = await import("node:path");
      const { readLocalConfig } = await import("../../runtime/config.ts");
      const { compareLabels, formatComparison } = await import("../../lake/replay-run.ts");
      const result = compareLabels(path.join(readLocalConfig().dataDir, "lake"), labelA, labelB);
      process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatComparison(result));
    });
}
