import { Duration, RemovalPolicy } from "aws-cdk-lib";
import type { aws_kms as kms, aws_lambda as lambda } from "aws-cdk-lib";
import { aws_logs as logs, aws_stepfunctions as sfn, aws_stepfunctions_tasks as tasks } from "aws-cdk-lib";
import { Construct } from "constructs";
import type { ExecutionPolicy } from "@driftwatch/core/escalation/policy";

/**
 * The escalation workflow (issue 5) as a Standard state machine in JSONPath (no JSONata, no `Assign`, so local
 * mode can run the very definition this construct synthesizes with aws-local-stepfunctions):
 *
 *   ReadAlert → OpenOrFold ─folded→ Folded (end, no notification)
 *                          └opened→ ResolvePolicy → StartEscalation → SelectTier
 *   SelectTier → MoreChannels? → Notify (retry ChannelUnavailableError…) → ChannelDelivered ┐
 *                    │              └catch→ RecordChannelFailure → SkipChannel ────────────┤ (loop over channels)
 *                    └done→ AnyDelivered? ─none→ RecordTierUndelivered (alarm metric) ┐
 *                                          └────────────────────────────────→ PrepareAckWait
 *   PrepareAckWait → AwaitAck (.waitForTaskToken, timeout = tier's ackTimeoutSeconds)
 *        ├ success → AckOutcome? ─resolved→ Closed ; acknowledged → CheckQuiet
 *        ├ States.Timeout → RecordAckTimeout → NextTier
 *        └ other error → RecordAwaitFailure → NextTier
 *   NextTier → MoreTiers? → SelectTier | NextRound → SelectTier | RecordUnacknowledged (alarm metric) → CheckQuiet
 *   CheckQuiet ─done→ Closed ; else → QuietWait (SecondsPath) → CheckQuiet   (auto-resolve after a quiet period)
 *
 * Every Task retries transient errors and catches everything else; bookkeeping failures never stop the
 * escalation. Only a failure to open the incident fails the execution (after retries), which the stack alarms on
 * and which can be redriven with its input (the alert).
 *
 * Local-runner note: `AwaitAck`'s `TimeoutSecondsPath` is `$.Payload.ackTimeoutSeconds`, a path that exists both in
 * the state input (put there by `PrepareAckWait`) — where Step Functions evaluates it — and in the task's
 * `Parameters` output, where aws-local-stepfunctions 3.0.0 evaluates it.
 */
export interface EscalationTaskFunctions {
  openIncident: lambda.IFunction;
  resolvePolicy: lambda.IFunction;
  notify: lambda.IFunction;
  awaitAck: lambda.IFunction;
  recordEvent: lambda.IFunction;
  checkQuiet: lambda.IFunction;
}

export interface EscalationStateMachineProps {
  functions: EscalationTaskFunctions;
  /** Physical name (lets other resources reference the ARN without a dependency cycle). */
  stateMachineName?: string;
  /** Used when ResolvePolicy fails, so an incident is still escalated. */
  fallbackPolicy: ExecutionPolicy;
  /** Execution-history log group; created (KMS-encrypted with `logKey` if given) when absent. */
  logGroup?: logs.ILogGroup;
  logKey?: kms.IKey;
  logRetention?: logs.RetentionDays;
  removalPolicy?: RemovalPolicy;
  /** Overall execution timeout (Step Functions' default is a year). */
  timeout?: Duration;
  /** Retry of a failing channel before moving to the next one. */
  channelRetry?: { intervalSeconds?: number; maxAttempts?: number; backoffRate?: number };
}

/** State names that local mode and tests refer to. */
export const ESCALATION_STATES = {
  openOrFold: "OpenOrFold",
  resolvePolicy: "ResolvePolicy",
  notify: "Notify",
  awaitAck: "AwaitAck",
  checkQuiet: "CheckQuiet",
} as const;

/** Errors our handlers throw that a retry may fix (core's TransientError family). */
const TRANSIENT = ["TransientError", "IncidentNotReadyError"];

export class EscalationStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: EscalationStateMachineProps) {
    super(scope, id);
    const fns = props.functions;
    const J = sfn.JsonPath;

    const invoke = (
      stateId: string,
      fn: lambda.IFunction,
      payload: Record<string, unknown>,
      options: {
        resultSelector?: Record<string, unknown>;
        resultPath?: string | typeof J.DISCARD;
        comment?: string;
      } = {},
    ) =>
      new tasks.LambdaInvoke(this, stateId, {
        stateName: stateId,
        comment: options.comment,
        lambdaFunction: fn,
        payload: sfn.TaskInput.fromObject(payload),
        resultSelector: options.resultSelector,
        resultPath: options.resultPath ?? J.DISCARD,
        retryOnServiceExceptions: true,
      });

    const retryTransient = {
      errors: TRANSIENT,
      interval: Duration.seconds(1),
      maxAttempts: 3,
      backoffRate: 2,
    };

    /** A bookkeeping step (timeline + metric); its failure never stops the escalation. */
    const record = (stateId: string, payload: Record<string, unknown>, next: sfn.IChainable) => {
      const task = invoke(stateId, fns.recordEvent, payload);
      task.addRetry(retryTransient);
      task.addCatch(next, { errors: [sfn.Errors.ALL], resultPath: J.DISCARD });
      task.next(next);
      return task;
    };

    const incidentId = J.stringAt("$.incident.incidentId");
    const currentChannel = J.arrayGetItem(
      J.listAt("$.cursor.tier.channels"),
      J.numberAt("$.cursor.channelIndex"),
    );

    // --- terminal states ---
    const folded = new sfn.Succeed(this, "Folded", {
      stateName: "Folded",
      comment: "Alert folded into the open incident; no notification.",
    });
    const closed = new sfn.Succeed(this, "Closed", { stateName: "Closed" });
    const failed = new sfn.Fail(this, "EscalationFailed", {
      stateName: "EscalationFailed",
      error: "EscalationFailed",
      cause: "The incident could not be opened; redrive the execution with its input.",
    });

    // --- quiet period / auto-resolve loop ---
    const checkQuiet = invoke(
      ESCALATION_STATES.checkQuiet,
      fns.checkQuiet,
      { incidentId, quietSeconds: J.numberAt("$.policy.quietSeconds") },
      {
        resultSelector: { "done.$": "$.Payload.done", "waitSeconds.$": "$.Payload.waitSeconds" },
        resultPath: "$.quiet",
      },
    );
    const quietWait = new sfn.Wait(this, "QuietWait", {
      stateName: "QuietWait",
      time: sfn.WaitTime.secondsPath("$.quiet.waitSeconds"),
    });
    const quietRetryWait = new sfn.Wait(this, "QuietRetryWait", {
      stateName: "QuietRetryWait",
      time: sfn.WaitTime.secondsPath("$.policy.quietSeconds"),
    });
    checkQuiet.addRetry(retryTransient);
    checkQuiet.addCatch(
      record(
        "RecordQuietFailure",
        { incidentId, type: "error", step: "CheckQuiet", "error.$": "$.quietError" },
        quietRetryWait,
      ),
      { errors: [sfn.Errors.ALL], resultPath: "$.quietError" },
    );
    quietRetryWait.next(checkQuiet);
    quietWait.next(checkQuiet);
    checkQuiet.next(
      new sfn.Choice(this, "IsClosed", { stateName: "IsClosed" })
        .when(sfn.Condition.booleanEquals("$.quiet.done", true), closed)
        .otherwise(quietWait),
    );

    // --- tiers ---
    const selectTier = new sfn.Pass(this, "SelectTier", {
      stateName: "SelectTier",
      parameters: {
        "tierIndex.$": "$.cursor.tierIndex",
        "round.$": "$.cursor.round",
        tier: J.arrayGetItem(J.listAt("$.policy.tiers"), J.numberAt("$.cursor.tierIndex")),
        channelIndex: 0,
        delivered: 0,
      },
      resultPath: "$.cursor",
    });

    const advanceChannel = (stateId: string, deliveredDelta: 0 | 1) =>
      new sfn.Pass(this, stateId, {
        stateName: stateId,
        parameters: {
          "tierIndex.$": "$.cursor.tierIndex",
          "round.$": "$.cursor.round",
          "tier.$": "$.cursor.tier",
          channelIndex: J.mathAdd(J.numberAt("$.cursor.channelIndex"), 1),
          delivered: deliveredDelta
            ? J.mathAdd(J.numberAt("$.cursor.delivered"), 1)
            : J.numberAt("$.cursor.delivered"),
        },
        resultPath: "$.cursor",
      });

    const notify = invoke(
      ESCALATION_STATES.notify,
      fns.notify,
      {
        incidentId,
        tier: J.objectAt("$.cursor.tier"),
        tierCount: J.numberAt("$.policy.tierCount"),
        round: J.numberAt("$.cursor.round"),
        channel: currentChannel,
      },
      { resultSelector: { "status.$": "$.Payload.status" }, resultPath: "$.delivery" },
    );
    const retry = props.channelRetry ?? {};
    notify.addRetry({
      errors: ["ChannelUnavailableError", ...TRANSIENT],
      interval: Duration.seconds(retry.intervalSeconds ?? 2),
      maxAttempts: retry.maxAttempts ?? 3,
      backoffRate: retry.backoffRate ?? 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    const moreChannels = new sfn.Choice(this, "MoreChannels", { stateName: "MoreChannels" });
    const skipChannel = advanceChannel("SkipChannel", 0).next(moreChannels);
    notify.addCatch(
      record(
        "RecordChannelFailure",
        {
          incidentId,
          type: "notification_failed",
          tier: J.numberAt("$.cursor.tier.number"),
          round: J.numberAt("$.cursor.round"),
          channel: currentChannel,
          "error.$": "$.deliveryError",
        },
        skipChannel,
      ),
      { errors: [sfn.Errors.ALL], resultPath: "$.deliveryError" },
    );
    notify.next(advanceChannel("ChannelDelivered", 1).next(moreChannels));

    const prepareAckWait = new sfn.Pass(this, "PrepareAckWait", {
      stateName: "PrepareAckWait",
      comment:
        "The wait task's payload; its TimeoutSecondsPath reads $.Payload.ackTimeoutSeconds (see construct docs).",
      parameters: {
        incidentId,
        tier: J.numberAt("$.cursor.tier.number"),
        round: J.numberAt("$.cursor.round"),
        ackTimeoutSeconds: J.numberAt("$.cursor.tier.ackTimeoutSeconds"),
      },
      resultPath: "$.Payload",
    });

    selectTier.next(moreChannels);
    moreChannels
      .when(
        sfn.Condition.numberGreaterThanJsonPath("$.cursor.tier.channelCount", "$.cursor.channelIndex"),
        notify,
      )
      .otherwise(
        new sfn.Choice(this, "AnyDelivered", { stateName: "AnyDelivered" })
          .when(
            sfn.Condition.numberEquals("$.cursor.delivered", 0),
            record(
              "RecordTierUndelivered",
              {
                incidentId,
                type: "tier_undelivered",
                tier: J.numberAt("$.cursor.tier.number"),
                round: J.numberAt("$.cursor.round"),
              },
              prepareAckWait,
            ),
          )
          .otherwise(prepareAckWait),
      );

    const awaitAck = new tasks.LambdaInvoke(this, ESCALATION_STATES.awaitAck, {
      stateName: ESCALATION_STATES.awaitAck,
      comment:
        "Waits for SendTaskSuccess from the acknowledge/resolve handlers; times out after the tier's ack timeout.",
      lambdaFunction: fns.awaitAck,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        taskToken: J.taskToken,
        incidentId: J.stringAt("$.Payload.incidentId"),
        tier: J.numberAt("$.Payload.tier"),
        round: J.numberAt("$.Payload.round"),
        ackTimeoutSeconds: J.numberAt("$.Payload.ackTimeoutSeconds"),
      }),
      taskTimeout: sfn.Timeout.at("$.Payload.ackTimeoutSeconds"),
      resultPath: "$.ack",
      retryOnServiceExceptions: true,
    });
    prepareAckWait.next(awaitAck);
    awaitAck.addRetry(retryTransient);

    const moreTiers = new sfn.Choice(this, "MoreTiers", { stateName: "MoreTiers" });
    const nextTier = new sfn.Pass(this, "NextTier", {
      stateName: "NextTier",
      parameters: { tierIndex: J.mathAdd(J.numberAt("$.cursor.tierIndex"), 1), "round.$": "$.cursor.round" },
      resultPath: "$.cursor",
    }).next(moreTiers);
    const nextRound = new sfn.Pass(this, "NextRound", {
      stateName: "NextRound",
      parameters: { tierIndex: 0, round: J.mathAdd(J.numberAt("$.cursor.round"), 1) },
      resultPath: "$.cursor",
    }).next(selectTier);
    moreTiers
      .when(sfn.Condition.numberLessThanJsonPath("$.cursor.tierIndex", "$.policy.tierCount"), selectTier)
      .when(sfn.Condition.numberLessThanJsonPath("$.cursor.round", "$.policy.rounds"), nextRound)
      .otherwise(
        record(
          "RecordUnacknowledged",
          { incidentId, type: "unacknowledged", round: J.numberAt("$.cursor.round") },
          checkQuiet,
        ),
      );

    const tierAndRound = { tier: J.numberAt("$.Payload.tier"), round: J.numberAt("$.Payload.round") };
    awaitAck.addCatch(
      record("RecordAckTimeout", { incidentId, type: "ack_timeout", ...tierAndRound }, nextTier),
      {
        errors: [sfn.Errors.TIMEOUT],
        resultPath: "$.ackError",
      },
    );
    awaitAck.addCatch(
      record(
        "RecordAwaitFailure",
        { incidentId, type: "error", step: "AwaitAck", ...tierAndRound, "error.$": "$.ackError" },
        nextTier,
      ),
      { errors: [sfn.Errors.ALL], resultPath: "$.ackError" },
    );
    awaitAck.next(
      new sfn.Choice(this, "AckOutcome", { stateName: "AckOutcome" })
        .when(sfn.Condition.stringEquals("$.ack.action", "resolved"), closed)
        .otherwise(checkQuiet),
    );

    // --- open or fold, policy ---
    const startEscalation = new sfn.Pass(this, "StartEscalation", {
      stateName: "StartEscalation",
      result: sfn.Result.fromObject({ tierIndex: 0, round: 1 }),
      resultPath: "$.cursor",
    }).next(selectTier);

    const resolvePolicy = invoke(
      ESCALATION_STATES.resolvePolicy,
      fns.resolvePolicy,
      { incidentId, alert: J.objectAt("$.alert") },
      {
        resultSelector: Object.fromEntries(
          ["policyId", "scope", "tiers", "tierCount", "repeat", "rounds", "quietSeconds"].map((k) => [
            `${k}.$`,
            `$.Payload.${k}`,
          ]),
        ),
        resultPath: "$.policy",
      },
    );
    resolvePolicy.addRetry(retryTransient);
    const fallbackPolicy = new sfn.Pass(this, "UseFallbackPolicy", {
      stateName: "UseFallbackPolicy",
      result: sfn.Result.fromObject(props.fallbackPolicy as unknown as Record<string, unknown>),
      resultPath: "$.policy",
    }).next(startEscalation);
    resolvePolicy.addCatch(
      record(
        "RecordPolicyFailure",
        { incidentId, type: "error", step: "ResolvePolicy", "error.$": "$.policyError" },
        fallbackPolicy,
      ),
      { errors: [sfn.Errors.ALL], resultPath: "$.policyError" },
    );
    resolvePolicy.next(startEscalation);

    const openOrFold = invoke(
      ESCALATION_STATES.openOrFold,
      fns.openIncident,
      { alert: J.objectAt("$.alert"), executionName: J.stringAt("$$.Execution.Name") },
      {
        resultSelector: { "incidentId.$": "$.Payload.incidentId", "action.$": "$.Payload.action" },
        resultPath: "$.incident",
      },
    );
    // Up to ~2 minutes of retries: long enough for a concurrent opener to finish (or be declared stale).
    openOrFold.addRetry({
      errors: TRANSIENT,
      interval: Duration.seconds(2),
      maxAttempts: 6,
      backoffRate: 2,
      maxDelay: Duration.seconds(60),
    });
    openOrFold.addCatch(
      (() => {
        const task = invoke("RecordOpenFailure", fns.recordEvent, {
          type: "error",
          step: "OpenOrFold",
          "error.$": "$.openError",
        });
        task.addRetry(retryTransient);
        task.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: J.DISCARD });
        return task.next(failed);
      })(),
      { errors: [sfn.Errors.ALL], resultPath: "$.openError" },
    );
    openOrFold.next(
      new sfn.Choice(this, "IsNewIncident", { stateName: "IsNewIncident" })
        .when(sfn.Condition.stringEquals("$.incident.action", "folded"), folded)
        .otherwise(resolvePolicy),
    );

    const readAlert = new sfn.Pass(this, "ReadAlert", {
      stateName: "ReadAlert",
      parameters: { "alert.$": "$" },
    });
    const definition = readAlert.next(openOrFold);

    this.logGroup =
      props.logGroup ??
      new logs.LogGroup(this, "ExecutionLogs", {
        encryptionKey: props.logKey,
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
      });

    this.stateMachine = new sfn.StateMachine(this, "StateMachine", {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      tracingEnabled: true,
      timeout: props.timeout,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      removalPolicy: props.removalPolicy,
    });
  }
}
