import fs from "node:fs";
import {
  parsePolicyCatalogue,
  toExecutionPolicy,
  type ExecutionPolicy,
  type PolicyCatalogue,
} from "@driftwatch/core/escalation/policy";

/**
 * Local escalation policy: two tiers ("primary", "secondary") that both notify the outbox, every tier's
 * acknowledgement timeout = `DRIFTWATCH_ACK_TIMEOUT_SECONDS`, no repeat (so a demo ends in `unacknowledged`),
 * auto-resolve after `DRIFTWATCH_AUTO_RESOLVE_SECONDS` (default 3600) without new occurrences.
 * `DRIFTWATCH_ESCALATION_POLICIES=<file.json>` replaces it with a full catalogue (same schema as on AWS; every
 * channel kind is delivered to the outbox locally); the ack timeout still overrides every tier.
 */
export interface LocalPolicySettings {
  catalogue: PolicyCatalogue;
  ackTimeoutSeconds: number;
  quietSeconds: number;
}

export function localPolicySettings(
  ackTimeoutSeconds: number,
  env: NodeJS.ProcessEnv = process.env,
): LocalPolicySettings {
  const quietSeconds = Number(env.DRIFTWATCH_AUTO_RESOLVE_SECONDS || 3600);
  const repeat = Number(env.DRIFTWATCH_ESCALATION_REPEAT || 0);
  const file = env.DRIFTWATCH_ESCALATION_POLICIES;
  const catalogue = file
    ? parsePolicyCatalogue(fs.readFileSync(file, "utf8"))
    : parsePolicyCatalogue({
        default: {
          id: "local-default",
          tiers: [
            { name: "primary", channels: ["outbox"], ackTimeoutSeconds },
            { name: "secondary", channels: ["outbox"], ackTimeoutSeconds },
          ],
          repeat,
          autoResolveAfterSeconds: quietSeconds,
        },
      });
  return { catalogue, ackTimeoutSeconds, quietSeconds };
}

/** The policy the state machine falls back to if ResolvePolicy fails. */
export function fallbackPolicy(settings: LocalPolicySettings): ExecutionPolicy {
  return toExecutionPolicy(settings.catalogue.default, "default", {
    ackTimeoutSeconds: settings.ackTimeoutSeconds,
    quietSeconds: settings.quietSeconds,
  });
}
