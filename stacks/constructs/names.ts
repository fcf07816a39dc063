import type { App } from "sst/constructs";

/**
 * Physical names that one stack must know before another stack creates the resource (key policies are
 * written in Storage, which deploys first, for a role that Ingest creates). Stage-prefixed so stages never
 * collide in one account.
 */
export function firehoseDeliveryRoleName(app: App): string {
  return truncateRoleName(app.logicalPrefixedName("ingest-firehose"));
}

/** The stream-fed lake writer's role: the raw-zone key policy names it (it writes raw/ through S3). */
export function lakeWriterRoleName(app: App): string {
  return truncateRoleName(app.logicalPrefixedName("ingest-lake-writer"));
}

export function breakGlassRoleName(app: App): string {
  return truncateRoleName(app.logicalPrefixedName("raw-zone-break-glass"));
}

function truncateRoleName(name: string): string {
  // IAM role names are at most 64 characters.
  return name.length <= 64 ? name : name.slice(0, 64);
}

/**
 * The escalation state machine's name. Scoring starts executions (and ends acknowledgement waits) by ARN, so the name
 * is fixed here and the Escalation stack must create its state machine with exactly this `stateMachineName`.
 */
export function escalationStateMachineName(app: App): string {
  return app.logicalPrefixedName("escalation").slice(0, 80);
}

/**
 * Physical names of alarms and tier topics, fixed so Monitoring refers to them by name (`fromAlarmName`,
 * `fromTopicArn` of a formatted ARN) instead of importing another stack's exports: removing an alarm or an
 * escalation tier then never fails on "export in use by Monitoring".
 */
export function alarmName(app: App, id: string): string {
  return app.logicalPrefixedName(id).slice(0, 255);
}

export function tierTopicName(app: App, tier: number): string {
  return app.logicalPrefixedName(`escalation-tier-${tier}`).slice(0, 256);
}
