/**
 * Offline synthesis of the whole SST app (every stack in `sst.config.ts`), no AWS account needed:
 *
 *   npx tsx scripts/synth.ts [--stage <name>] [--out <dir>] [--nag]
 *
 * Writes the CloudFormation templates (cloud assembly) to `--out` (default `cdk.out/<stage>`) and, with `--nag`,
 * runs cdk-nag (AwsSolutions + HIPAA Security) and exits 1 on any unsuppressed finding. `sst build` / `sst diff`
 * need AWS credentials (STS, bootstrap lookup); this calls the same SST functions directly with NODE_ENV=test,
 * which is what makes SST skip the bootstrap lookup.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

process.env.NODE_ENV = "test";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stage: { type: "string", default: "synth" },
      out: { type: "string" },
      nag: { type: "boolean", default: false },
    },
  });
  const stage = values.stage!;
  const outdir = path.resolve(values.out ?? path.join(root, "cdk.out", stage));

  const { synthApp, formatFindings } = await import("../stacks/test/harness.ts");
  const { default: config } = await import("../sst.config.ts");

  const { assembly, findings } = await synthApp((app) => config.stacks(app), {
    stage,
    outdir,
    skipNag: !values.nag,
  });
  const unique = formatFindings(findings);

  console.log(
    `stage ${stage}: ${assembly.stacks.length} stacks → ${path.relative(process.cwd(), outdir) || "."}`,
  );
  for (const s of assembly.stacks) {
    const resources = Object.keys((s.template as { Resources?: object }).Resources ?? {}).length;
    console.log(`  ${s.stackName.padEnd(40)} ${String(resources).padStart(4)} resources  ${s.templateFile}`);
  }
  if (values.nag) {
    console.log(
      unique.length === 0
        ? "cdk-nag: no unsuppressed findings"
        : `cdk-nag: ${unique.length} unsuppressed findings`,
    );
    for (const f of unique) console.log(`  ${f}`);
  }
  return unique.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
