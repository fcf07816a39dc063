import type { Command } from "commander";
import { localLakeFeed } from "../../ingest/stream-lake.ts";
import { readLocalConfig } from "../../runtime/config.ts";
import { limitHeapGrowth } from "../../runtime/lambda-heap.ts";
import { startLocalRuntime } from "../../runtime/local-runtime.ts";

/**
 * `npm start` / `npx driftwatch start`: runs local mode until Ctrl-C (or SIGTERM), which stops the broker,
 * flushes the Firehose buffer and the open windows, and exits (within 9 s at most). `npm start` runs this process
 * with `exec` (package.json), so a SIGTERM sent to npm alone reaches it: no shell or loader process in between.
 *
 * Output: a banner with the addresses, then one status line (rewritten in place on a TTY, every 10 s
 * otherwise). Everything else that would reach stdout while running (handler logs that bypass the log sink,
 * stray console output) goes to `$DATA_DIR/logs/local.log`, so nothing garbles the status line.
 */
export function registerStart(program: Command): void {
  program
    .command("start")
    .description("Run the whole pipeline on this machine (MQTT 127.0.0.1:1883, HTTP 127.0.0.1:3000)")
    .option("--quiet", "no status line")
    .action(async (options: { quiet?: boolean }) => {
      const config = readLocalConfig();
      // V8 grows heaps to up to 4 × their live size without a limit; local mode's threads grow by 1.8 × (issue 13).
      limitHeapGrowth();
      // The SDK's "Node 22 will be required from 2027" notice is for deployers, not for local mode's output.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
      const out = process.stdout;
      const write = out.write.bind(out) as (text: string) => boolean;
      let runtime;
      try {
        runtime = await startLocalRuntime(config);
      } catch (error) {
        process.stderr.write(`driftwatch: local mode did not start: ${(error as Error).message}\n`);
        process.exit(1);
      }
      const { status, log } = runtime.context;
      // From here on stdout belongs to the status line; route stray writes to the log file.
      out.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
        const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
        if (text.trim() !== "") log("stdout", text.trimEnd());
        const done = typeof encoding === "function" ? encoding : callback;
        if (typeof done === "function") done();
        return true;
      }) as typeof out.write;

      const lakeFeedNote =
        localLakeFeed() === "stream"
          ? `fed from the telemetry stream; unknown topics through the Firehose buffer, ${config.firehoseBufferSeconds} s`
          : `Firehose buffer ${config.firehoseBufferSeconds} s`;
      write(
        `Driftwatch local mode\n` +
          `  MQTT    mqtt://${config.host}:${config.mqttPort}\n` +
          `  HTTP    http://${config.host}:${config.httpPort}  (API under /api)\n` +
          `  Data    ${config.dataDir}\n` +
          `  Lake    ${config.dataDir}/lake/{readings,errors,raw}/  (${lakeFeedNote})\n` +
          `  Logs    ${config.dataDir}/logs/local.log\n` +
          `Ctrl-C stops and flushes what is buffered.\n`,
      );
      const tty = out.isTTY === true;
      let lastPrinted = 0;
      const timer = setInterval(() => {
        if (options.quiet) return;
        const line = status.line();
        if (tty) write(`\r\x1b[2K${line}`);
        else if (Date.now() - lastPrinted >= 10_000) {
          write(`${line}\n`);
          lastPrinted = Date.now();
        }
      }, 1000);
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        clearInterval(timer);
        write(`${tty ? "\n" : ""}${signal}: flushing and stopping…\n`);
        // Service managers wait about 10 s after SIGTERM before SIGKILL: never hang past that.
        setTimeout(() => {
          process.stderr.write("driftwatch: did not stop within 9 s; exiting without a complete flush\n");
          process.exit(1);
        }, 9_000).unref();
        await runtime.stop();
        write(`stopped. ${status.line()}\n`);
        process.exit(0);
      };
      process.on("SIGINT", () => void shutdown("SIGINT"));
      process.on("SIGTERM", () => void shutdown("SIGTERM"));
    });
}
