import "./promise-polyfill.ts";
import fs from "node:fs";
import path from "node:path";
import { StateMachine } from "aws-local-stepfunctions";
import type { Context } from "aws-lambda";
import type { Alert } from "@driftwatch/core/alerts/alert";
import type { EscalationStarter } from "@driftwatch/core/ports/escalation-starter";
import { createLambdaContext } from "../runtime/lambda-context.ts";
import type { SynthesizedEscalation, TaskFunctionKey } from "./definition.ts";
import { LocalTaskTokens } from "./local-task-tokens.ts";

type JSONValue = Parameters<StateMachine["run"]>[0];

/** A task handler as Lambda would call it (the middy handlers of `packages/functions/src/stepfunctions`). */
export type TaskHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface EngineOptions {
  escalation: SynthesizedEscalation;
  handlers: Record<TaskFunctionKey, TaskHandler>;
  tokens: LocalTaskTokens;
  /** Persisted execution names (duplicates across restarts are refused too). */
  namesFile?: string;
  /** Called after each task invocation (status counters). */
  onTaskResult?: (key: TaskFunctionKey, result: unknown) => void;
  log?: (message: string) => void;
  /**
   * Tests only: wait this long (ms) before every Retry instead of the definition's IntervalSeconds/BackoffRate
   * (a run option of the runner; the definition is unchanged).
   */
  retryIntervalMs?: number;
  /** Lambda timeout of the in-process task invocations (ms). */
  lambdaTimeoutMs?: number;
}

export interface ExecutionRecord {
  name: string;
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED";
  startedAt: string;
  stoppedAt?: string;
  output?: unknown;
  error?: string;
  /** Settles when the execution ends (never rejects). */
  done: Promise<void>;
}

const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";
const WAIT_FOR_TOKEN = "arn:aws:states:::lambda:invoke.waitForTaskToken";

/** Reads `$.a.b` style paths (what `TimeoutSecondsPath` uses here). */
function readPath(value: unknown, jsonPath: string): unknown {
  if (!jsonPath.startsWith("$")) return undefined;
  return jsonPath
    .slice(1)
    .split(".")
    .filter(Boolean)
    .reduce<unknown>(
      (v, key) => (v && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined),
      value,
    );
}

/**
 * Runs escalation executions locally with aws-local-stepfunctions on the definition the CDK construct
 * synthesizes. Task states are overridden by name with the same handlers the Lambdas run; `.waitForTaskToken`
 * tasks call their handler with a fresh `$$.Task.Token` and park until `LocalTaskTokens.succeed` (the acknowledge
 * handler) releases them or the state's timeout fires (`States.Timeout`, from the runner).
 * Implements `EscalationStarter`: a name already used returns `{started: false}` and runs nothing.
 */
export class LocalEscalationEngine implements EscalationStarter {
  private readonly machine: StateMachine;
  private readonly names = new Set<string>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly aborts = new Map<string, () => void>();
  private readonly overrides: Record<string, (input: JSONValue) => Promise<JSONValue>> = {};
  private readonly retryOverrides: Record<string, number> = {};
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly options: EngineOptions) {
    const { definition } = options.escalation;
    this.machine = new StateMachine(definition);
    for (const [stateName, state] of Object.entries(definition.States)) {
      if (state.Type !== "Task") continue;
      const task = state as {
        Resource: string;
        Parameters?: { FunctionName?: string };
        TimeoutSeconds?: number;
        TimeoutSecondsPath?: string;
        Retry?: unknown[];
      };
      const key = options.escalation.functionsByArn[task.Parameters?.FunctionName ?? ""];
      if (!key)
        throw new Error(`task state ${stateName} calls an unknown function ${task.Parameters?.FunctionName}`);
      if (task.Resource === LAMBDA_INVOKE) {
        this.overrides[stateName] = async (input) => {
          const payload = (input as { Payload?: unknown }).Payload ?? {};
          const result = await this.invoke(key, payload);
          return { ExecutedVersion: "$LATEST", Payload: result as JSONValue, StatusCode: 200 };
        };
      } else if (task.Resource === WAIT_FOR_TOKEN) {
        this.overrides[stateName] = async (input) => {
          const payload = (input as { Payload?: { taskToken?: string } }).Payload ?? {};
          const token = payload.taskToken;
          if (!token)
            throw Object.assign(new Error("waitForTaskToken payload lacks the task token"), {
              name: "States.Runtime",
            });
          const timeoutSeconds = Number(
            task.TimeoutSeconds ?? (task.TimeoutSecondsPath ? readPath(input, task.TimeoutSecondsPath) : 60),
          );
          const parked = options.tokens.park(token, (timeoutSeconds + 5) * 1000);
          try {
            await this.invoke(key, payload);
          } catch (error) {
            options.tokens.drop(token);
            throw error;
          }
          return (await parked) as JSONValue;
        };
      } else {
        throw new Error(`task state ${stateName} uses ${task.Resource}, which local mode does not run`);
      }
      if (options.retryIntervalMs !== undefined && task.Retry)
        this.retryOverrides[stateName] = options.retryIntervalMs;
    }
    if (options.namesFile && fs.existsSync(options.namesFile)) {
      for (const line of fs.readFileSync(options.namesFile, "utf8").split("\n"))
        if (line) this.names.add(line);
    }
  }

  private async invoke(key: TaskFunctionKey, payload: unknown): Promise<unknown> {
    const context = createLambdaContext({
      functionName: `driftwatch-local-${key}`,
      timeoutMs: this.options.lambdaTimeoutMs ?? 30_000,
    });
    if (this.stopped)
      throw Object.assign(new Error("local escalation is stopping"), { name: "States.Runtime" });
    const call = this.options.handlers[key](structuredClone(payload), context);
    this.inFlight.add(call);
    void call.catch(() => undefined).finally(() => this.inFlight.delete(call));
    try {
      const result = await call;
      this.options.onTaskResult?.(key, result);
      return result ?? null;
    } catch (error) {
      // Step Functions sees a Lambda error by its errorType: the error's name.
      const name = error instanceof Error ? error.name : "Error";
      const message = error instanceof Error ? error.message : String(error);
      this.options.log?.(`task ${key} failed: ${name}: ${message}`);
      throw Object.assign(new Error(message), { name });
    }
  }

  async start(alert: Alert, executionName: string): Promise<{ started: boolean }> {
    if (this.stopped) throw new Error("local escalation is stopped");
    if (this.names.has(executionName)) return { started: false };
    this.names.add(executionName);
    if (this.options.namesFile) fs.appendFileSync(this.options.namesFile, `${executionName}\n`);
    const record: ExecutionRecord = {
      name: executionName,
      status: "RUNNING",
      startedAt: new Date().toISOString(),
      done: Promise.resolve(),
    };
    const execution = this.machine.run(alert as unknown as JSONValue, {
      overrides: { taskResourceLocalHandlers: this.overrides, retryIntervalOverrides: this.retryOverrides },
      noThrowOnAbort: true,
      context: {
        Execution: {
          Id: `arn:aws:states:us-east-1:000000000000:execution:driftwatch-local-escalation:${executionName}`,
          Name: executionName,
          RoleArn: "arn:aws:iam::000000000000:role/driftwatch-local-escalation",
        },
        StateMachine: {
          Id: "arn:aws:states:us-east-1:000000000000:stateMachine:driftwatch-local-escalation",
          Name: "driftwatch-local-escalation",
        },
        // `$$.Task.Token` is read once per evaluation of a task's Parameters: a fresh token every time.
        Task: {
          get Token() {
            return LocalTaskTokens.newToken();
          },
        },
      },
    });
    this.aborts.set(executionName, execution.abort);
    this.executions.set(executionName, record);
    record.done = execution.result
      .then(
        (output) => {
          record.status = this.stopped && output === null ? "ABORTED" : "SUCCEEDED";
          record.output = output;
        },
        (error: Error) => {
          record.status = "FAILED";
          record.error = `${error.name}: ${error.message}`;
          this.options.log?.(`execution ${executionName} failed: ${record.error}`);
        },
      )
      .finally(() => {
        record.stoppedAt = new Date().toISOString();
        this.aborts.delete(executionName);
      });
    this.options.log?.(`execution ${executionName} started`);
    return { started: true };
  }

  execution(name: string): ExecutionRecord | undefined {
    return this.executions.get(name);
  }

  get running(): number {
    return this.aborts.size;
  }

  /** Aborts running executions (their incidents stay in the store; see ADR 0703 on restarts). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const abort of this.aborts.values()) abort();
    this.options.tokens.clear();
    await Promise.all([...this.executions.values()].map((e) => e.done));
    // Aborting stops at the next state; let task handlers already running finish their writes.
    await Promise.allSettled([...this.inFlight]);
  }
}

export function executionNamesFile(dataDir: string): string {
  const dir = path.join(dataDir, "escalation");
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, "execution-names.txt");
}
