import type { FirehoseTransformationEventRecord } from "aws-lambda";

/** Lambda's synchronous invocation limit, for both the request and the response payload. */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

export type RecordOutcome =
  | { recordId: string; result: "Ok"; data: Buffer; partitionKeys: Record<string, string> | undefined }
  | { recordId: string; result: "Dropped" }
  | {
      recordId: string;
      result: "ProcessingFailed";
      errorCode: string;
      errorMessage: string;
      attempts?: number;
    };

/** Why Firehose rejects a transformation response as a whole (every record of the batch then fails). */
export class InvalidTransformationResponseError extends Error {
  override name = "InvalidTransformationResponseError";
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Checks a transformation Lambda's response the way Firehose does and returns one outcome per request record:
 * the response is `{records: [...]}`, every request recordId comes back exactly once (no unknown ids), each
 * `result` is Ok, Dropped or ProcessingFailed, Ok carries base64 `data`, and `metadata.partitionKeys` (if any)
 * maps names to strings. Any violation fails the whole batch: throws `InvalidTransformationResponseError`.
 */
export function validateTransformationResponse(
  request: readonly FirehoseTransformationEventRecord[],
  response: unknown,
): RecordOutcome[] {
  const fail = (code: string, message: string): never => {
    throw new InvalidTransformationResponseError(code, message);
  };
  if (
    response === null ||
    typeof response !== "object" ||
    !Array.isArray((response as { records?: unknown }).records)
  ) {
    fail("Lambda.JsonProcessingException", "the response is not an object with a records array");
  }
  const size = Buffer.byteLength(JSON.stringify(response));
  if (size > LAMBDA_PAYLOAD_LIMIT_BYTES) {
    fail(
      "Lambda.ResponseSizeExceeded",
      `the response is ${size} bytes, more than Lambda's ${LAMBDA_PAYLOAD_LIMIT_BYTES}`,
    );
  }
  const expected = new Set(request.map((r) => r.recordId));
  const outcomes = new Map<string, RecordOutcome>();
  for (const item of (response as { records: unknown[] }).records) {
    if (item === null || typeof item !== "object")
      fail("Lambda.JsonProcessingException", "a response record is not an object");
    const record = item as { recordId?: unknown; result?: unknown; data?: unknown; metadata?: unknown };
    if (typeof record.recordId !== "string")
      fail("Lambda.MissingRecordId", "a response record has no recordId");
    const recordId = record.recordId as string;
    if (!expected.has(recordId))
      fail("Lambda.UnknownRecordId", `recordId ${recordId} was not in the request`);
    if (outcomes.has(recordId))
      fail("Lambda.DuplicatedRecordId", `recordId ${recordId} is returned more than once`);
    switch (record.result) {
      case "Ok": {
        if (typeof record.data !== "string" || !BASE64.test(record.data)) {
          fail("Lambda.InvalidData", `record ${recordId} is Ok without base64 data`);
        }
        outcomes.set(recordId, {
          recordId,
          result: "Ok",
          data: Buffer.from(record.data as string, "base64"),
          partitionKeys: partitionKeysOf(recordId, record.metadata, fail),
        });
        break;
      }
      case "Dropped":
        outcomes.set(recordId, { recordId, result: "Dropped" });
        break;
      case "ProcessingFailed":
        outcomes.set(recordId, {
          recordId,
          result: "ProcessingFailed",
          errorCode: "Lambda.ProcessingFailed",
          errorMessage: "The Lambda function marked the record as ProcessingFailed",
        });
        break;
      default:
        fail("Lambda.InvalidRecordResult", `record ${recordId} has result ${JSON.stringify(record.result)}`);
    }
  }
  if (outcomes.size !== expected.size) {
    const missing = request.find((r) => !outcomes.has(r.recordId));
    fail("Lambda.MissingRecordId", `recordId ${missing?.recordId} is missing from the response`);
  }
  return request.map((r) => outcomes.get(r.recordId) as RecordOutcome);
}

function partitionKeysOf(
  recordId: string,
  metadata: unknown,
  fail: (code: string, message: string) => never,
): Record<string, string> | undefined {
  if (metadata === undefined || metadata === null) return undefined;
  const keys = (metadata as { partitionKeys?: unknown }).partitionKeys;
  if (keys === undefined) return undefined;
  if (keys === null || typeof keys !== "object" || Array.isArray(keys)) {
    fail("Lambda.InvalidMetadata", `record ${recordId} has metadata.partitionKeys that is not an object`);
  }
  for (const value of Object.values(keys as Record<string, unknown>)) {
    if (typeof value !== "string")
      fail("Lambda.InvalidMetadata", `record ${recordId} has a non-string partition key`);
  }
  return keys as Record<string, string>;
}
