import { Stack, aws_iam as iam } from "aws-cdk-lib";
import type { aws_kms as kms, aws_lambda as lambda, aws_logs as logs, aws_s3 as s3 } from "aws-cdk-lib";
import type { Construct } from "constructs";

export interface FirehoseDeliveryStatementsProps {
  /** The destination bucket. */
  bucket: s3.IBucket;
  /** Object key patterns Firehose may write (and abort multipart uploads of), under the statement `sid`. */
  objects: { sid: string; patterns: string[] };
  /** KMS keys the delivery encrypts with (via S3 only), under the statement `sid`. */
  keys: { sid: string; keys: kms.IKey[] };
  /** The record transformation function, when the stream has one. */
  transform?: lambda.IFunction;
  /** The delivery stream's log group. */
  logGroup: logs.ILogGroup;
}

/**
 * The least-privilege statements of a Firehose → S3 delivery role, written out (the L2's own grants, which
 * include bucket reads and deletes, are not used: give the L2 `role.withoutPolicyUpdates()`). Firehose never
 * reads or deletes objects. Statements, in order: write the objects, bucket metadata, encrypt via S3, invoke the
 * transformation (only with `transform`), write delivery logs.
 */
export function firehoseDeliveryStatements(
  scope: Construct,
  props: FirehoseDeliveryStatementsProps,
): iam.PolicyStatement[] {
  const { bucket, objects, keys, transform, logGroup } = props;
  return [
    new iam.PolicyStatement({
      sid: objects.sid,
      actions: ["s3:PutObject", "s3:AbortMultipartUpload"],
      resources: objects.patterns.map((pattern) => bucket.arnForObjects(pattern)),
    }),
    new iam.PolicyStatement({
      sid: "LakeBucketMetadata",
      actions: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      resources: [bucket.bucketArn],
    }),
    new iam.PolicyStatement({
      sid: keys.sid,
      // Decrypt: S3 needs it to complete multipart uploads of SSE-KMS objects.
      actions: ["kms:GenerateDataKey", "kms:Decrypt"],
      resources: keys.keys.map((key) => key.keyArn),
      conditions: { StringEquals: { "kms:ViaService": `s3.${Stack.of(scope).region}.amazonaws.com` } },
    }),
    ...(transform
      ? [
          new iam.PolicyStatement({
            sid: "InvokeTransformation",
            actions: ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
            resources: [transform.functionArn],
          }),
        ]
      : []),
    new iam.PolicyStatement({
      sid: "DeliveryLogs",
      actions: ["logs:PutLogEvents", "logs:CreateLogStream"],
      resources: [logGroup.logGroupArn],
    }),
  ];
}
