import type { Command } from "commander";
import { readLocalConfig } from "../../runtime/config.ts";
import { startLocalRuntime } from "../../runtime/local-runtime.ts";

export function registerStart(program: Command): void {
  program
    .command("start")
    .description("Run the whole pipeline on this machine (MQTT 127.0.0.1:1883, HTTP 127.0.0.1:3000)")
    .option("--quiet", "no status line")
    .action(async (options: { quiet?: boolean }) => {
      const config = readLocalConfig();
      const runtime = await startLocalRuntime(config);
      const { status } = runtime.context;
      const out = process.stdout;
      out.write(
        `Driftwatch local mode\n` +
          `  MQTT    mqtt://${config.host}:${config.mqttPort}\n` +
          `  HTTP    http://${config.host}:${config.httpPort}  (API under /api)\n` +
          `  Data    ${config.dataDir}\n` +
          `  Logs    ${config.dataDir}/logs/local.log\n` +
          `Ctrl-C stops and flushes what is buffered.\n`,
      );
      const tty = out.isTTY === true;
      let lastPrinted = 0;
      const timer = setInterval(() => {
        if (options.quiet) return;
        const line = status.line();
        if (tty) out.write(`\r\x1b[2K${line}`);
        else if (Date.now() - lastPrinted >= 10_000) {
          out.write(`${line}\n`);
          lastPrinted = Date.now();
        }
      }, 1000);
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        clearInterval(timer);
        out.write(`${tty ? "\n" : ""}${signal}: flushing and stopping…\n`);
        await runtime.stop();
        out.write(`stopped. ${status.line()}\n`);
        process.exit(0);
      };
      process.on("SIGINT", () => void shutdown("SIGINT"));
      process.on("SIGTERM", () => void shutdown("SIGTERM"));
    });
}
