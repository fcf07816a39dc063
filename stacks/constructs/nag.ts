import { type CfnResource, Stack } from "aws-cdk-lib";
import type { IConstruct } from "constructs";
import { NagSuppressions } from "cdk-nag";

/**
 * cdk-nag suppression helpers. Every suppression carries a specific reason; suppressions are applied to the
 * narrowest construct (and, for granular rules, with `appliesTo`) so a new violation elsewhere still fails.
 */
export interface Suppression {
  id: string;
  reason: string;
  appliesTo?: string[];
}

/**
 * `appliesTo` entry for a granular finding on `<construct>.Arn` + `suffix` (e.g. "/*"), as cdk-nag renders it —
 * also when the resource lives in another stack (cdk-nag shows the original `<LogicalId.Arn>`, not the import).
 */
export function arnRef(construct: IConstruct, suffix = ""): string {
  const resource = (construct.node.defaultChild ?? construct) as CfnResource;
  return `Resource::<${Stack.of(resource).getLogicalId(resource)}.Arn>${suffix}`;
}

/** Suppresses on `construct` and its children (e.g. a Function's role and default policy). */
export function suppress(construct: IConstruct, suppressions: Suppression[], applyToChildren = true): void {
  for (const s of suppressions) {
    if (s.reason.trim().length < 20) throw new Error(`nag suppression ${s.id} needs a specific reason`);
  }
  NagSuppressions.addResourceSuppressions(construct, suppressions, applyToChildren);
}

const BASIC_EXECUTION_ROLE =
  "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

/** Reasons that hold for every Driftwatch Lambda function; `trigger` explains why no DLQ applies. */
export function functionBaselineSuppressions(options: {
  /** Why an async DLQ does not apply (e.g. "invoked synchronously by Firehose, which retries and keeps failures"). */
  dlqReason: string;
  /** Why no reserved concurrency is set. */
  concurrencyReason?: string;
}): Suppression[] {
  return [
    {
      id: "AwsSolutions-IAM4",
      reason:
        "AWSLambdaBasicExecutionRole only allows writing this function's own CloudWatch Logs; it is AWS's minimal logging policy.",
      appliesTo: [BASIC_EXECUTION_ROLE],
    },
    {
      id: "AwsSolutions-IAM5",
      reason:
        "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) do not support resource-level permissions and need Resource '*'.",
      appliesTo: ["Resource::*"],
    },
    {
      id: "HIPAA.Security-IAMNoInlinePolicy",
      reason:
        "The role's policy is generated from CDK grants scoped to this function's own resources; it is attached to one role only.",
    },
    {
      id: "AwsSolutions-L1",
      reason:
        "Pinned to nodejs22.x (Active LTS, the version CI and local mode run) so Lambda and local mode execute the same runtime; cdk-nag flags anything but the newest.",
    },
    {
      id: "HIPAA.Security-LambdaInsideVPC",
      reason:
        "The function only calls AWS APIs (DynamoDB, KMS, S3, Kinesis) over TLS with IAM auth and reaches no VPC resources; a VPC would add NAT/endpoint cost without reducing exposure.",
    },
    { id: "HIPAA.Security-LambdaDLQ", reason: options.dlqReason },
    {
      id: "HIPAA.Security-LambdaConcurrency",
      reason:
        options.concurrencyReason ??
        "Concurrency is bounded by the event source (Firehose/Kinesis shard count); reserving concurrency would fail deploys in accounts with low unreserved limits.",
    },
  ];
}

/**
 * Suppresses findings on resources that SST and CDK add to every stack on their own (SST's per-stack custom
 * resource handler, CDK's log-retention and S3 auto-delete providers, SST StaticSite's deploy-time upload and
 * invalidation policies). They are not ours to configure; the
 * reasons say why each is acceptable. Call after `app.finish()` (the harness and `scripts/synth.ts` do).
 */
export function suppressPlatformResources(root: IConstruct): void {
  suppressStaticSiteDeployPolicies(root);
  for (const node of root.node.findAll()) {
    if (!Stack.isStack(node)) continue;
    for (const child of node.node.children) {
      const id = child.node.id;
      if (id === "CustomResourceHandler") {
        suppress(child, [
          {
            id: "AwsSolutions-IAM4",
            reason:
              "SST's built-in custom resource handler (stack metadata, sourcemaps); its role uses AWS's minimal logging policy.",
            appliesTo: [BASIC_EXECUTION_ROLE],
          },
          {
            id: "AwsSolutions-L1",
            reason:
              "SST pins the runtime of its built-in custom resource handler (nodejs22.x); not configurable.",
          },
          {
            id: "HIPAA.Security-LambdaConcurrency",
            reason: "SST's custom resource handler runs only during CloudFormation deployments.",
          },
          {
            id: "HIPAA.Security-LambdaDLQ",
            reason: "Invoked synchronously by CloudFormation, which reports failures on the stack event.",
          },
          {
            id: "HIPAA.Security-LambdaInsideVPC",
            reason: "SST's deployment-time custom resource handler touches no data and no VPC resources.",
          },
          {
            id: "HIPAA.Security-IAMNoInlinePolicy",
            reason: "SST-managed deployment-time handler policy, scoped by SST to its own resources.",
          },
          {
            id: "AwsSolutions-IAM5",
            reason: "SST-managed deployment-time handler policy (sourcemap/asset access), not configurable.",
          },
        ]);
      } else if (id.startsWith("LogRetention")) {
        suppress(child, [
          {
            id: "AwsSolutions-IAM4",
            reason:
              "CDK's log-retention provider (sets retention on Lambda log groups at deploy time) uses AWS's minimal logging policy.",
            appliesTo: [BASIC_EXECUTION_ROLE],
          },
          {
            id: "AwsSolutions-IAM5",
            reason:
              "CDK's log-retention provider must act on log groups that Lambda creates on first invoke, whose names it only learns at deploy time.",
            appliesTo: ["Resource::*"],
          },
          {
            id: "HIPAA.Security-IAMNoInlinePolicy",
            reason: "CDK-managed deploy-time log-retention provider policy.",
          },
        ]);
      }
    }
  }
}

/**
 * SST v2's StaticSite attaches two inline policies to the stack's custom-resource handler role when the app is
 * finished: `S3UploaderPolicy` (copy the build from the CDK asset bucket into the site's bucket) and
 * `CloudFrontInvalidatorPolicy`. Suppressed by path and with the exact object wildcards.
 */
function suppressStaticSiteDeployPolicies(root: IConstruct): void {
  for (const node of root.node.findAll()) {
    const id = node.node.id;
    if (id === "CertificateRequestorFunction") {
      // SST's DNS-validated certificate (a custom console domain): requests and validates the us-east-1 ACM
      // certificate CloudFront needs, at deploy time only.
      suppress(node, [
        {
          id: "AwsSolutions-IAM4",
          reason: "SST's deploy-time certificate requestor; its role uses AWS's minimal logging policy.",
          appliesTo: [BASIC_EXECUTION_ROLE],
        },
        {
          id: "AwsSolutions-IAM5",
          reason:
            "ACM RequestCertificate/DescribeCertificate/DeleteCertificate and Route 53 GetChange act on certificates and changes that exist only once requested (no resource ARN at synth time).",
          appliesTo: ["Resource::*"],
        },
        {
          id: "HIPAA.Security-IAMNoInlinePolicy",
          reason: "SST-managed deploy-time certificate requestor policy, attached to its own role only.",
        },
        {
          id: "AwsSolutions-L1",
          reason: "SST pins the runtime of its certificate requestor custom resource; not configurable.",
        },
        {
          id: "HIPAA.Security-LambdaConcurrency",
          reason:
            "Runs only during CloudFormation deployments that create or replace the console certificate.",
        },
        {
          id: "HIPAA.Security-LambdaDLQ",
          reason: "Invoked synchronously by CloudFormation, which reports failures on the stack event.",
        },
        {
          id: "HIPAA.Security-LambdaInsideVPC",
          reason:
            "Deploy-time certificate requestor; calls only the ACM and Route 53 APIs, no data, no VPC resources.",
        },
      ]);
      continue;
    }
    if (id !== "S3UploaderPolicy" && id !== "CloudFrontInvalidatorPolicy") continue;
    const suppressions: Suppression[] = [
      {
        id: "HIPAA.Security-IAMNoInlinePolicy",
        reason:
          "SST StaticSite's deploy-time custom resource policy (upload the build, invalidate the cache), attached to the stack's custom-resource handler role only.",
      },
    ];
    const bucket = node.node.scope?.node.tryFindChild("S3Bucket");
    if (id === "S3UploaderPolicy" && bucket) {
      const stack = Stack.of(node);
      suppressions.push({
        id: "AwsSolutions-IAM5",
        reason:
          "The uploader copies the console build from the CDK asset bucket into the site's own bucket: object wildcards of exactly those two buckets.",
        appliesTo: [
          arnRef(bucket, "/*"),
          `Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-${stack.account}-${stack.region}/*`,
        ],
      });
    }
    suppress(node, suppressions);
  }
}
