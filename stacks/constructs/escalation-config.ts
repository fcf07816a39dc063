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
 * addresses are configuration, not code. `DRIFTWATCH_CONFIG_DIR` replaces `config/` (stack tests).
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
  /**
   * Longest an incident's execution may live (the quiet-period loop runs while alerts keep folding in). The state
   * machine's overall timeout is this or the longest escalation plus two quiet periods and an hour, whichever is
   * longer; a timed-out execution fires the ExecutionsTimedOut alarm.
   */
  maxIncidentSeconds: number;
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
    maxIncidentSeconds: 7 * 24 * 3600,
    manufacturers: {},
    models: {},
  };
  const dir = process.env.DRIFTWATCH_CONFIG_DIR || path.join(root, "config");
  const file = path.join(dir, `escalation.${stage}.json`);
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

/**
 * The state machine's overall execution timeout (seconds): long enough for the slowest policy of the catalogue to
 * walk every tier in every round and then wait out two quiet periods (plus an hour of notification retries), and
 * at least `maxIncidentSeconds`. Step Functions allows at most one year.
 */
export function executionTimeoutSeconds(config: EscalationStageConfig): number {
  const catalogue = policyCatalogue(config);
  const policies = [
    catalogue.default,
    ...Object.values(catalogue.manufacturers),
    ...Object.values(catalogue.models),
  ];
  const longest = Math.max(
    ...policies.map(
      (p) =>
        (p.repeat + 1) * p.tiers.reduce((sum, tier) => sum + tier.ackTimeoutSeconds, 0) +
        2 * p.autoResolveAfterSeconds,
    ),
  );
  return Math.min(365 * 24 * 3600, Math.max(config.maxIncidentSeconds, longest + 3600));
}
