import { z } from "zod";
import { channelNameSchema } from "./channel.ts";
import { PolicyConfigurationError } from "./errors.ts";

/**
 * Escalation policies: ordered tiers, each with channels (all of them are notified, in order) and an
 * acknowledgement timeout; `repeat` extra rounds through the tiers before the incident is marked
 * unacknowledged; an auto-resolve quiet period. Resolved per alert: model > manufacturer > default.
 */
export const tierSchema = z.object({
  name: z.string().min(1).max(64).optional(),
  channels: z.array(channelNameSchema).min(1).max(10),
  ackTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600),
});
export type Tier = z.infer<typeof tierSchema>;

export const escalationPolicySchema = z.object({
  id: z.string().min(1).max(64),
  tiers: z.array(tierSchema).min(1).max(10),
  /** Extra rounds through every tier after the last one times out (0 = none). */
  repeat: z.number().int().min(0).max(10).default(0),
  /** An acknowledged or unacknowledged incident without new occurrences for this long resolves itself. */
  autoResolveAfterSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .default(3600),
});
export type EscalationPolicy = z.infer<typeof escalationPolicySchema>;
export type EscalationPolicyInput = z.input<typeof escalationPolicySchema>;

/** Policies by scope. `models` keys are `<manufacturer>#<model>`. */
export const policyCatalogueSchema = z.object({
  default: escalationPolicySchema,
  manufacturers: z.record(escalationPolicySchema).default({}),
  models: z.record(escalationPolicySchema).default({}),
});
export type PolicyCatalogue = z.infer<typeof policyCatalogueSchema>;
export type PolicyCatalogueInput = z.input<typeof policyCatalogueSchema>;

export type PolicyScope = "model" | "manufacturer" | "default";

/** Parses a catalogue (JSON text or object); every problem is listed, with its path. */
export function parsePolicyCatalogue(raw: string | unknown): PolicyCatalogue {
  let value: unknown = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch (cause) {
      throw new PolicyConfigurationError("escalation policy catalogue is not valid JSON", { cause });
    }
  }
  const parsed = policyCatalogueSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new PolicyConfigurationError(
      `escalation policy catalogue is invalid: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`,
      { issues },
    );
  }
  return parsed.data;
}

export function resolvePolicy(
  catalogue: PolicyCatalogue,
  device: { manufacturer?: string; model?: string },
): { policy: EscalationPolicy; scope: PolicyScope } {
  if (device.manufacturer && device.model) {
    const byModel = catalogue.models[`${device.manufacturer}#${device.model}`];
    if (byModel) return { policy: byModel, scope: "model" };
  }
  if (device.manufacturer) {
    const byManufacturer = catalogue.manufacturers[device.manufacturer];
    if (byManufacturer) return { policy: byManufacturer, scope: "manufacturer" };
  }
  return { policy: catalogue.default, scope: "default" };
}

/** The policy as the state machine consumes it: 1-based tier numbers, counts precomputed (JSONPath has no math). */
export interface ExecutionTier {
  number: number;
  name: string;
  channels: string[];
  channelCount: number;
  ackTimeoutSeconds: number;
}

export interface ExecutionPolicy {
  policyId: string;
  scope: PolicyScope;
  tiers: ExecutionTier[];
  tierCount: number;
  repeat: number;
  /** Total rounds through the tiers: repeat + 1. */
  rounds: number;
  quietSeconds: number;
}

export interface PolicyOverrides {
  /** Replaces every tier's acknowledgement timeout (local demos: DRIFTWATCH_ACK_TIMEOUT_SECONDS). */
  ackTimeoutSeconds?: number;
  /** Replaces the auto-resolve quiet period. */
  quietSeconds?: number;
}

export function toExecutionPolicy(
  policy: EscalationPolicy,
  scope: PolicyScope,
  overrides: PolicyOverrides = {},
): ExecutionPolicy {
  const tiers = policy.tiers.map((tier, i) => ({
    number: i + 1,
    name: tier.name ?? `tier-${i + 1}`,
    channels: [...tier.channels],
    channelCount: tier.channels.length,
    ackTimeoutSeconds: overrides.ackTimeoutSeconds ?? tier.ackTimeoutSeconds,
  }));
  return {
    policyId: policy.id,
    scope,
    tiers,
    tierCount: tiers.length,
    repeat: policy.repeat,
    rounds: policy.repeat + 1,
    quietSeconds: overrides.quietSeconds ?? policy.autoResolveAfterSeconds,
  };
}
