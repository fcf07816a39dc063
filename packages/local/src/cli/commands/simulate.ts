import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import {
  DEFAULT_DEVICES_PER_TYPE,
  isInDefaultRegistry,
  simulatedDevices,
  toRegistryDevice,
} from "@driftwatch/core/simulator/devices";
import { readLocalConfig } from "../../runtime/config.ts";
import { parseSimulateOptions, type RawSimulateOptions } from "../../simulate/options.ts";
import { createProgressDisplay } from "../../simulate/progress-bar.ts";
import { registerDevicesOverHttp } from "../../simulate/register-devices.ts";
import { runSimulation, type SimulationSummary } from "../../simulate/run-simulation.ts";

function formatSummary(
  summary: SimulationSummary,
  context: { devices: number; qos: number; seed: number },
): string {
  const { plan } = summary;
  const seconds = (summary.publishMs / 1000).toFixed(1);
  const total = Number.isFinite(plan.total) ? ` of ${plan.total}` : "";
  const lines = [
    `simulate: sent ${summary.sent}${total} messages in ${seconds} s: ${summary.achievedRate.toFixed(1)} msg/s ` +
      `(target ${plan.rate}), ${summary.failed} failed, ${summary.suppressed} withheld by dropouts` +
      (summary.stoppedEarly ? " (stopped early)" : ""),
    `  ${context.devices} devices over ${plan.clients} MQTT connection${plan.clients === 1 ? "" : "s"}, ` +
      `QoS ${context.qos}, seed ${context.seed}, max publish lag ${summary.maxLagMs.toFixed(0)} ms`,
  ];
  if (summary.labels > 0 || summary.groundTruthFile) {
    lines.push(
      `  anomalies: ${summary.labels} injected` +
        (summary.groundTruthFile ? `, labelled in ${summary.groundTruthFile}` : ""),
    );
  }
  if (summary.firstError) lines.push(`  first error: ${summary.firstError}`);
  return `${lines.join("\n")}\n`;
}

export function registerSimulate(program: Command): void {
  program
    .command("simulate")
    .description(
      "Publish simulated devices (medical, weather, fan, canonical: the seeds' payloads) over MQTT at a steady rate, " +
        "optionally injecting labelled anomalies",
    )
    .option("--rate <msgs/s>", "messages per second, whole fleet", "10")
    .option("--devices <n>", "number of simulated devices (the types take turns)", "20")
    .option("--clients <n>", "MQTT connections the devices share (default: one per device, at most 100)")
    .option("--duration <s>", "run for this many seconds")
    .option("--count <n>", "publish this many messages (default: run until Ctrl-C)")
    .option("--types <list>", "device types: medical,weather,fan,canonical", "medical,weather,fan,canonical")
    .option("--mqtt <url>", "broker URL (default mqtt://127.0.0.1:$MQTT_PORT, port 1883)")
    .option("--seed <n>", "seed for values and anomalies (same seed, same data)", "1")
    .option("--anomalies <list>", "inject anomalies: spike,drift,stuck,dropout,shift")
    .option(
      "--anomaly-rate <p>",
      "probability per message that an anomaly starts on its device (default 0.001)",
    )
    .option(
      "--ground-truth <file.jsonl>",
      "write one JSON line per injected anomaly {deviceId, metric, kind, start, end, …}",
    )
    .option("--qos <0|1>", "MQTT QoS; with 1 a message counts as sent when the broker acknowledges it", "1")
    .option(
      "--basic-ingest [stage]",
      "publish through AWS IoT Basic Ingest, to $aws/rules/driftwatch_<stage>_<rule>/<topic> (default stage: local)",
    )
    .option("--export-devices <file.json>", "write the device list in `devices import` format and exit")
    .option("--register", "import the devices into the running local instance before publishing")
    .option("--http <url>", "local instance for --register (default http://127.0.0.1:$HTTP_PORT)")
    .option("--no-progress", "no progress bar (it is off anyway when stderr is not a terminal)")
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      `
Devices are a fixed catalogue: device k of a type is always the same device. Local mode's registry holds the
first ${DEFAULT_DEVICES_PER_TYPE} of each type; for more, add --register (or --export-devices + \`driftwatch devices import\`).

Examples:
  npx driftwatch simulate --rate 100 --devices 40 --duration 60
  npx driftwatch simulate --anomalies spike,drift,stuck,dropout --anomaly-rate 0.002 --ground-truth truth.jsonl
  npx driftwatch simulate --devices 1000 --export-devices devices.json`,
    )
    .action(async (raw: RawSimulateOptions, command: Command) => {
      const config = readLocalConfig();
      // Explicitly given --devices/--export-devices: export that many; --export-devices alone: the registry seed.
      const devicesGiven = command.getOptionValueSource("devices") === "cli";
      const options = parseSimulateOptions(raw, {
        mqttUrl: `mqtt://${config.host}:${config.mqttPort}`,
        httpUrl: `http://${config.host}:${config.httpPort}`,
      });

      if (options.exportDevices) {
        const count = devicesGiven ? options.deviceCount : DEFAULT_DEVICES_PER_TYPE * options.types.length;
        const list = simulatedDevices(count, { types: options.types }).map(toRegistryDevice);
        const file = path.resolve(options.exportDevices);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, `${JSON.stringify(list, null, 2)}\n`);
        process.stdout.write(
          `wrote ${list.length} devices to ${file} (import with: npx driftwatch devices import ${options.exportDevices})\n`,
        );
        return;
      }

      const devices = simulatedDevices(options.deviceCount, { types: options.types });
      if (options.register) {
        const imported = await registerDevicesOverHttp(options.httpUrl, devices.map(toRegistryDevice));
        process.stderr.write(`registered ${imported} devices at ${options.httpUrl}\n`);
      } else {
        const unknown = devices.filter((device) => !isInDefaultRegistry(device)).length;
        if (unknown > 0) {
          process.stderr.write(
            `note: ${unknown} of ${devices.length} devices are not in local mode's default registry; their readings go to ` +
              `errors/ as unknown devices unless registered (add --register, or --export-devices + devices import)\n`,
          );
        }
      }

      const controller = new AbortController();
      let interrupts = 0;
      const onSignal = () => {
        interrupts++;
        if (interrupts > 1) process.exit(130);
        controller.abort();
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      const total =
        options.run.count ??
        (options.run.durationSeconds !== undefined
          ? Math.round(options.run.rate * options.run.durationSeconds)
          : Infinity);
      const display = createProgressDisplay(total, { enabled: options.progress && !options.json });
      let summary: SimulationSummary;
      try {
        summary = await runSimulation({
          ...options.run,
          devices,
          signal: controller.signal,
          onProgress: (progress) => display.update(progress),
        });
      } finally {
        display.stop();
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
      const context = { devices: devices.length, qos: options.run.qos ?? 1, seed: options.run.seed };
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ ...summary, ...context, plan: { ...summary.plan, total: Number.isFinite(summary.plan.total) ? summary.plan.total : null } }, null, 2)}\n`,
        );
      } else {
        process.stdout.write(formatSummary(summary, context));
      }
      if (summary.failed > 0) process.exitCode = 1;
    });
}
