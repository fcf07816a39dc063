import type { App } from "sst/constructs";

/**
 * Physical names that one stack must know before another stack creates the resource (key policies are
 * written in Storage, which deploys first, for a role that Ingest creates). Stage-prefixed so stages never
 * collide in one account.
 */
export function firehoseDeliveryRoleName(app: App): string {
  return truncateRoleName(app.logicalPrefixedName("ingest-firehose"));
}

export function breakGlassRoleName(app: App): string {
  return truncateRoleName(app.logicalPrefixedName("raw-zone-break-glass"));
}

function truncateRoleName(name: string): string {
  // IAM role names are at most 64 characters.
  return name.length <= 64 ? name : name.slice(0, 64);
}

/**
 * The escalation state machine's name. Scoring (deployed before Escalation) starts executions by ARN, so the name
 * is fixed here and the Escalation stack must create its state machine with exactly this `stateMachineName`.
 */
export function escalationStateMachineName(app: App): string {
  return app.logicalPrefixedName("escalation").slice(0, 80);
}
