import type { Command } from "commander";

function timeOf(name: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new Error(`--${name} must be an ISO 8601 time or epoch ms, got "${value}"`);
  return ms;
}

export function registerRaw(program: Command): void {
  const raw = program.command("raw").description("Break-glass access to the raw source backup (lake/raw/)");
  raw
    .command("decrypt")
    .description(
      "Decrypt the raw source records received in a range with the local raw key into a file you name (PHI in clear!)",
    )
    .requiredOption("--from <time>", "arrival time range start (ISO 8601 or epoch ms)")
    .requiredOption("--to <time>", "arrival time range end, exclusive")
    .requiredOption("--out <path>", "NDJSON file to create (never overwritten; mode 0600)")
    .action(async (options: { from: string; to: string; out: string }) => {
      const fromMs = timeOf("from", options.from);
      const toMs = timeOf("to", options.to);
      if (fromMs >= toMs) throw new Error("--from must be before --to");
      const { readLocalConfig } = await import("../../runtime/config.ts");
      const { decryptRaw, PHI_WARNING } = await import("../../lake/raw-decrypt.ts");
      process.stderr.write(`${PHI_WARNING}\n`);
      let result;
      try {
        result = decryptRaw({ dataDir: readLocalConfig().dataDir, fromMs, toMs, out: options.out });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST")
          throw new Error(`${options.out} exists; name a new file`);
        throw error;
      }
      process.stdout.write(
        `${result.records} raw records from ${result.objects} objects → ${result.out} (PHI in clear)\n`,
      );
    });
}
