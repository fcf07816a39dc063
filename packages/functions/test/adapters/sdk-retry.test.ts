import { Readable } from "node:stream";
import { SFNClient } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "vitest";
import type { Alert } from "@driftwatch/core/alerts/alert";
import { SfnEscalationStarter } from "../../src/adapters/sfn-escalation-starter.ts";

const ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:driftwatch-prod-escalation";
const alert = {
  alertId: "a1b2c3",
  kind: "anomaly",
  rule: "anomaly",
  deviceId: "dev-0001",
  ts: "2026-01-01T00:00:30.000Z",
  windowStart: "2026-01-01T00:00:00.000Z",
  metrics: {},
  attribution: [],
  causes: [],
  message: "temperature unusually high",
} satisfies Alert;

/**
 * Below the adapter, the SDK client retries a throttled call itself (standard mode, 3 attempts) before the adapter
 * sees an error: a real client over an in-process HTTP handler (no network) that throttles once.
 */
describe("SfnEscalationStarter over a real SDK client", () => {
  it("retries a throttled StartExecution and succeeds", async () => {
    const requests: { target: string | undefined; body: string }[] = [];
    const requestHandler = {
      async handle(request: { headers: Record<string, string>; body?: unknown }) {
        requests.push({ target: request.headers["x-amz-target"], body: String(request.body) });
        const throttled = requests.length === 1;
        const body = throttled
          ? { __type: "com.amazonaws.swf.base.model#ThrottlingException", message: "Rate exceeded" }
          : { executionArn: `${ARN}:a1b2c3`, startDate: 1767225600 };
        return {
          response: {
            statusCode: throttled ? 400 : 200,
            headers: { "content-type": "application/x-amz-json-1.0" },
            body: Readable.from([Buffer.from(JSON.stringify(body))]),
          },
        };
      },
    };
    const client = new SFNClient({
      region: "eu-west-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      requestHandler,
      maxAttempts: 3,
    });
    expect(await new SfnEscalationStarter(client, ARN).start(alert, "a1b2c3")).toEqual({ started: true });
    expect(requests).toHaveLength(2);
    expect(requests.every((r) => r.target === "AWSStepFunctions.StartExecution")).toBe(true);
    expect(JSON.parse(requests[1]!.body)).toEqual({
      stateMachineArn: ARN,
      name: "a1b2c3",
      input: JSON.stringify(alert),
    });
  });
});
