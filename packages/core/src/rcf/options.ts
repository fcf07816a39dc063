import { z } from "zod";
import { InvalidForestOptionsError } from "./errors.ts";

export type ForestPresetName = "kda" | "library";

/**
 * Forest parameters. `timeDecay` follows Kinesis Data Analytics' `RANDOM_CUT_FOREST`: the sampler's decay rate is
 * λ = 1 / timeDecay (100000 ⇒ λ = 1e-5); 0 or Infinity means no decay (a plain reservoir sample).
 */
export interface ForestOptions {
  numberOfTrees: number;
  sampleSize: number;
  timeDecay: number;
  shingleSize: number;
  /** Scores are 0 until this many input points have updated the forest (as KDA / the AWS library count). */
  outputAfter: number;
  seed: number;
}

export const forestOptionsSchema = z
  .object({
    numberOfTrees: z.number().int().min(1).max(1000),
    sampleSize: z.number().int().min(2).max(32768),
    timeDecay: z.number().min(0),
    shingleSize: z.number().int().min(1).max(256),
    outputAfter: z.number().int().min(0),
    seed: z.number().int(),
  })
  .strict();

/** `kda`: KDA's RANDOM_CUT_FOREST defaults. `library`: the AWS Java library's defaults (50 trees, λ = 1/(10·256)). */
export const forestPresets: Record<ForestPresetName, ForestOptions> = {
  kda: { numberOfTrees: 100, sampleSize: 256, timeDecay: 100000, shingleSize: 1, outputAfter: 256, seed: 42 },
  library: { numberOfTrees: 50, sampleSize: 256, timeDecay: 2560, shingleSize: 1, outputAfter: 64, seed: 42 },
};

export type ForestOptionsInput = Partial<ForestOptions> & { preset?: ForestPresetName };

/** Resolves a preset (default `kda`) plus overrides into validated options. */
export function resolveForestOptions(input: ForestOptionsInput = {}): ForestOptions {
  const { preset = "kda", ...overrides } = input;
  const base = forestPresets[preset];
  if (base === undefined) throw new InvalidForestOptionsError(`unknown forest preset "${String(preset)}"`);
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const parsed = forestOptionsSchema.safeParse({ ...base, ...defined });
  if (!parsed.success) {
    throw new InvalidForestOptionsError("invalid forest options", {
      cause: parsed.error,
      issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  return parsed.data;
}

/** λ of the sampler for a KDA-style time decay. */
export function decayRate(timeDecay: number): number {
  return timeDecay > 0 && Number.isFinite(timeDecay) ? 1 / timeDecay : 0;
}
