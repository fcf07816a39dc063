import fs from "node:fs";
import path from "node:path";
import {
  parsePolicyCatalogue,
  toExecutionPolicy,
  type ExecutionPolicy,
  type EscalationPolicyInput,
  type PolicyCatalogue,
} from "@driftwatch/core/escalation/policy";
import { isProductionStage } from "./app-defaults.ts";

/**
 * Per-stage escalation settings: the tiers (each an SNS topic with e-mail/SMS subscriptions and an acknowledgement
 * timeout), repeats, the auto-resolve quiet period, acknowledgement-link lifetime, whether a webhook channel
 * (Slack-compatible, signed) is notified in every tier, and optional per-manufacturer / per-model policies.
 *
 * Defaults below; a stage overrides them with `config/escalation.<stage>.json` (same shape, partial), so
 * addresses are configuration, not code.
 */
export interface EscalationTierConfig {
  name: string;
  ackTimeoutSeconds: number;
  emails: string[];
  /** E.164 phone numbers. */
  sms: string[];
}

export interface EscalationStageConfig {
  tiers: EscalationTierConfig[];
  repeat: number;
  autoResolveAfterSeconds: number;
  ackLinkTtlSeconds: number;
  webhook: boolean;
  /** Extra policies (channels must be `sns:tier-N`, `webhook:oncall`). */
  manufacturers: Record<string, EscalationPolicyInput>;
  models: Record<string, EscalationPolicyInput>;
}

export function escalationConfig(stage: string, root = process.cwd()): EscalationStageConfig {
  const production = isProductionStage(stage);
  const defaults: EscalationStageConfig = {
    tiers: [
      { name: "primary", ackTimeoutSeconds: production ? 900 : 300, emails: [], sms: [] },
      { name: "secondary", ackTimeoutSeconds: production ? 900 : 300, emails: [], sms: [] },
    ],
    repeat: production ? 1 : 0,
    autoResolveAfterSeconds: 3600,
    ackLinkTtlSeconds: 24 * 3600,
    webhook: false,
    manufacturers: {},
    models: {},
  };
  const file = path.join(root, "config", `escalation.${stage}.json`);
  if (!fs.existsSync(file)) return defaults;
  const override = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<EscalationStageConfig>;
  return { ...defaults, ...override };
}

/** Channel of tier `n` (1-based). */
export function tierChannel(n: number): string {
  return `sns:tier-${n}`;
}

/** The policy catalogue the ResolvePolicy Lambda gets (`ESCALATION_POLICIES`), validated at synth time. */
export function policyCatalogue(config: EscalationStageConfig): PolicyCatalogue {
  return parsePolicyCatalogue({
    default: {
      id: "default",
      tiers: config.tiers.map((tier, i) => ({
        name: tier.name,
        channels: [tierChannel(i + 1), ...(config.webhook ? ["webhook:oncall"] : [])],
        ackTimeoutSeconds: tier.ackTimeoutSeconds,
      })),
      repeat: config.repeat,
      autoResolveAfterSeconds: config.autoResolveAfterSeconds,
    },
    manufacturers: config.manufacturers,
    models: config.models,
  });
}

/** What the state machine uses if ResolvePolicy fails: the default policy. */
export function fallbackExecutionPolicy(config: EscalationStageConfig): ExecutionPolicy {
  return toExecutionPolicy(policyCatalogue(config).default, "default");
}
