import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Alert } from "@driftwatch/core/alerts/alert";
import { ConfigurationError, TransientError } from "@driftwatch/core/shared/errors";
import { SfnEscalationStarter } from "../../src/adapters/sfn-escalation-starter.ts";
import { awsError } from "./aws-error-fixtures.ts";

const ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:driftwatch-prod-escalation";

const alert: Alert = {
  alertId: "a1b2c3",
  kind: "anomaly",
  rule: "anomaly",
  deviceId: "dev-0001",
  ts: "2026-01-01T00:00:30.000Z",
  windowStart: "2026-01-01T00:00:00.000Z",
  score: 3.2,
  grade: 0.9,
  metrics: { temperature: 41.5 },
  attribution: [],
  causes: [],
  message: "temperature unusually high",
};

describe("SfnEscalationStarter", () => {
  const sfn = mockClient(SFNClient);
  afterEach(() => sfn.reset());
  // The unit pool is not isolated: restore the SDK's own send() for the next file in this worker.
  afterAll(() => sfn.restore());

  it("sends exactly one StartExecution: the state machine, the deterministic name and the alert as input", async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${ARN}:a1b2c3`, startDate: new Date() });
    const starter = new SfnEscalationStarter(new SFNClient({}), ARN);

    expect(await starter.start(alert, "a1b2c3")).toEqual({ started: true });

    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      stateMachineArn: ARN,
      name: "a1b2c3",
      input: JSON.stringify(alert),
    });
    expect(sfn.calls()).toHaveLength(1);
  });

  it("treats ExecutionAlreadyExists as success (a duplicate never starts a second escalation)", async () => {
    sfn.on(StartExecutionCommand).rejects(awsError("ExecutionAlreadyExists"));
    const starter = new SfnEscalationStarter(new SFNClient({}), ARN);
    expect(await starter.start(alert, "a1b2c3")).toEqual({ started: false });
  });

  it("surfaces throttling as a TransientError, so the record is retried, and succeeds on the retry", async () => {
    sfn
      .on(StartExecutionCommand)
      .rejectsOnce(awsError("ThrottlingException"))
      .resolves({ executionArn: `${ARN}:a1b2c3`, startDate: new Date() });
    const starter = new SfnEscalationStarter(new SFNClient({}), ARN);

    const error = await starter.start(alert, "a1b2c3").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toBe("StartExecution failed: ThrottlingException");
    expect((error as Error).cause).toMatchObject({ name: "ThrottlingException" });

    expect(await starter.start(alert, "a1b2c3")).toEqual({ started: true });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(2);
  });

  it("reports access denied and a missing state machine as a ConfigurationError (no retry fixes them)", async () => {
    const starter = new SfnEscalationStarter(new SFNClient({}), ARN);
    for (const name of ["AccessDeniedException", "StateMachineDoesNotExist"]) {
      sfn.reset();
      sfn.on(StartExecutionCommand).rejects(awsError(name));
      const error = await starter.start(alert, "a1b2c3").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toBe(`StartExecution failed: ${name}`);
    }
  });

  it("treats a service error (5xx) as transient", async () => {
    sfn.on(StartExecutionCommand).rejects(awsError("ServiceUnavailable", "server"));
    const starter = new SfnEscalationStarter(new SFNClient({}), ARN);
    await expect(starter.start(alert, "a1b2c3")).rejects.toBeInstanceOf(TransientError);
  });
});
