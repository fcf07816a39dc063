import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { LOCAL_STAGE, ingestRuleName, parseBasicIngestTopic } from "@driftwatch/core/telemetry/basic-ingest";
import { encodeEnvelope, type Envelope } from "@driftwatch/core/telemetry/envelope";
import { derivePartitionKey } from "@driftwatch/core/telemetry/partition-key";
import type { RuleTarget } from "../runtime/context.ts";
import type { StatusBoard } from "../runtime/status-board.ts";
import type { PublishedMessage } from "./mqtt-broker.ts";
import { matchRules, topicRules, unmatchedRule, type TopicRule } from "./topic-rules.ts";

export interface RuleRouterOptions {
  /** Read on every message, so targets registered after start (the Kinesis stream) are used at once. */
  targets: () => readonly RuleTarget[];
  /** `$DATA_DIR/rule-errors`: the local error action writes one JSON line per failed action here. */
  errorDir: string;
  status?: StatusBoard;
  log?: (message: string) => void;
  /** Attempts per action before the error action (default 3), with backoff from `retryDelayMs` (default 100). */
  attempts?: number;
  retryDelayMs?: number;
  /**
   * Told when an action failed after its retries (besides the `rule-errors/` line), so the rejection also lands
   * in `lake/errors/`. Not told when the partition key is empty: the transformation records that message itself.
   */
  onActionFailed?: (failure: {
    rule: string;
    action: string;
    message: PublishedMessage;
    error: Error;
  }) => void;
}

/**
 * The IoT rules engine of local mode. For each published message: evaluate the rules (core's topic filters);
 * build the `Envelope` (the rules' SELECT); run every action: the Firehose stream always (a message that
 * matches no rule still goes there through the catch-all, and becomes an UNKNOWN_TOPIC error record), the
 * other targets (Kinesis) when a rule matched and the partition key template has a value. An action that fails
 * after retries triggers the rule's error action: a PHI-free line in `$DATA_DIR/rule-errors/<date>.jsonl` (rule,
 * action, topic, receive time, error, payload size and SHA-256 — never the payload) and the `rules.errors`
 * counter. The returned promise settles when every action holds the message (the broker then acks it).
 */
export function createRuleRouter(options: RuleRouterOptions): (message: PublishedMessage) => Promise<void> {
  const attempts = options.attempts ?? 3;
  const delay = options.retryDelayMs ?? 100;
  const status = options.status;

  const errorAction = (rule: string, target: string, message: PublishedMessage, error: Error) => {
    status?.inc("rules.errors");
    const day = new Date(message.receivedAt).toISOString().slice(0, 10);
    const line = JSON.stringify({
      rule,
      action: target,
      topic: message.topic,
      receivedAt: new Date(message.receivedAt).toISOString(),
      error: { name: error.name, message: error.message },
      payloadBytes: message.payload.length,
      payloadSha256: crypto.createHash("sha256").update(message.payload).digest("hex"),
    });
    try {
      fs.mkdirSync(options.errorDir, { recursive: true });
      fs.appendFileSync(path.join(options.errorDir, `${day}.jsonl`), `${line}\n`);
    } catch (writeError) {
      options.log?.(`rule error action could not write: ${(writeError as Error).message}`);
    }
    options.log?.(
      `rule ${rule}: action ${target} failed for a message on ${message.topic}: ${error.name}: ${error.message}`,
    );
  };

  const retry = async (
    rule: string,
    target: RuleTarget,
    message: PublishedMessage,
    envelope: Envelope,
    key: string,
    firstError: unknown,
  ): Promise<void> => {
    let error = firstError;
    for (let attempt = 1; ; attempt++) {
      if (attempt >= attempts) {
        errorAction(rule, target.name, message, error as Error);
        options.onActionFailed?.({ rule, action: target.name, message, error: error as Error });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay * 2 ** (attempt - 1)));
      try {
        await target.deliver(envelope, key);
        return;
      } catch (next) {
        error = next;
      }
    }
  };
  // The first attempt without an async frame of its own (issue 13: promises per message); a failure goes on in
  // `retry` exactly as before: up to `attempts` attempts with backoff, then the error action.
  const run = (
    rule: string,
    target: RuleTarget,
    message: PublishedMessage,
    envelope: Envelope,
    key: string,
  ): Promise<void> => {
    let delivered: Promise<void>;
    try {
      delivered = target.deliver(envelope, key);
    } catch (error) {
      delivered = Promise.reject(error);
    }
    return delivered.catch((error: unknown) => retry(rule, target, message, envelope, key, error));
  };

  const routeOne = (message: PublishedMessage): Promise<void> => {
    status?.inc("mqtt.messages");
    status?.inc("mqtt.bytes", message.payload.length);
    const { topic, matched, basicIngest } = selectRules(message.topic);
    if (basicIngest) status?.inc("rules.basicIngest");
    const rule = matched[0] ?? unmatchedRule;
    if (matched.length === 0) status?.inc("rules.unmatched");
    // One id per published message, shared by every action and retry (IoT SQL `newuuid() AS messageId`).
    const envelope = encodeEnvelope(topic, message.payload, message.receivedAt, crypto.randomUUID());
    const key = matched.length > 0 ? derivePartitionKey(topic, message.payload, rule.name) : undefined;
    const actions: Promise<void>[] = [];
    for (const target of options.targets()) {
      if (target.catchAll) {
        // A stream-fed lake's Firehose: a message the stream carries reaches the lake through it.
        if (target.unmatchedOnly && key !== undefined) continue;
        actions.push(run(rule.name, target, message, envelope, key ?? topic));
      } else if (key !== undefined) actions.push(run(rule.name, target, message, envelope, key));
      else if (matched.length > 0) {
        errorAction(
          rule.name,
          target.name,
          message,
          new Error("the partition key template evaluated to an empty string"),
        );
      }
    }
    if (actions.length === 1) return actions[0];
    return actions.length === 0 ? Promise.resolve() : Promise.all(actions).then(() => undefined);
  };

  return (message) => {
    try {
      return routeOne(message);
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/**
 * The rules a publish runs and the topic they see. A broker topic runs every rule whose filter matches it. A Basic
 * Ingest topic `$aws/rules/<rule name>/<topic>` runs the named rule (`driftwatch_local_<rule>` locally, as the
 * Ingest stack names a stage's rules) on `<topic>`, whether or not its filter matches (AWS skips the FROM clause
 * of a named rule); a name no rule has reaches the catch-all with the whole topic, so it becomes an unknown-topic
 * error record instead of vanishing.
 */
export function selectRules(topic: string): SelectedRules {
  let selected = selectedByTopic.get(topic);
  if (selected === undefined) {
    selected = computeSelectedRules(topic);
    if (selectedByTopic.size >= SELECTED_CACHE_LIMIT) selectedByTopic.clear();
    selectedByTopic.set(topic, selected);
  }
  return selected;
}

export interface SelectedRules {
  topic: string;
  matched: readonly TopicRule[];
  basicIngest: boolean;
}

/**
 * The rules are fixed and a device publishes on the same topic again and again, so the selection is remembered per
 * topic (issue 13: splitting the topic and four filters per message); bounded like core's `resolvePayloadSource`.
 */
const selectedByTopic = new Map<string, SelectedRules>();
const SELECTED_CACHE_LIMIT = 10_000;

function computeSelectedRules(topic: string): SelectedRules {
  const basic = parseBasicIngestTopic(topic);
  if (basic === undefined) return { topic, matched: matchRules(topic), basicIngest: false };
  const named = topicRules.find((rule) => ingestRuleName(LOCAL_STAGE, rule.name) === basic.ruleName);
  if (named === undefined) return { topic, matched: [], basicIngest: true };
  return { topic: basic.topic, matched: [named], basicIngest: true };
}
