import { aws_s3 as s3 } from "aws-cdk-lib";
import { StaticSite, use, type StackContext } from "sst/constructs";
import { suppress } from "./constructs/nag.ts";
import { Api } from "./Api.ts";
import { Auth } from "./Auth.ts";
import { Storage } from "./Storage.ts";

/**
 * The console's build-time configuration (Vite exposes `VITE_*` to the browser; none of these are secrets).
 * Shared with the stack test.
 */
export const WEB_ENVIRONMENT_KEYS = [
  "VITE_API_URL",
  "VITE_REGION",
  "VITE_USER_POOL_ID",
  "VITE_USER_POOL_CLIENT_ID",
  "VITE_COGNITO_DOMAIN",
] as const;

/**
 * Web: the console (packages/web, Vite + React) as an SST `StaticSite` (S3 + CloudFront), built with the stage's
 * API URL, user pool, console client and hosted-UI domain. With `DRIFTWATCH_CONSOLE_DOMAIN` it is served on that
 * domain (the origin the API's CORS and the pool client's callbacks name). `DRIFTWATCH_WEB_PREBUILT` points at an
 * already-built console (CI artifacts; the offline stack tests use a fixture) instead of building here.
 */
export function Web({ app, stack }: StackContext) {
  const { api } = use(Api);
  const auth = use(Auth);
  const storage = use(Storage);
  const prebuilt = process.env.DRIFTWATCH_WEB_PREBUILT;

  const environment: Record<(typeof WEB_ENVIRONMENT_KEYS)[number], string> = {
    VITE_API_URL: api.url,
    VITE_REGION: app.region,
    VITE_USER_POOL_ID: auth.userPool.userPoolId,
    VITE_USER_POOL_CLIENT_ID: auth.consoleClient.userPoolClientId,
    VITE_COGNITO_DOMAIN: auth.domain.baseUrl(),
  };
  const site = new StaticSite(stack, "Console", {
    path: prebuilt ?? "packages/web",
    buildCommand: prebuilt ? undefined : "npm run build",
    buildOutput: prebuilt ? "." : "dist",
    environment,
    // SST writes the env typings here, outside the web package's sources (packages/web/src/config.ts types them).
    vite: prebuilt ? undefined : { types: "../../.sst/types/web-env.d.ts" },
    customDomain: auth.console.domain
      ? { domainName: auth.console.domain, hostedZone: auth.console.hostedZone }
      : undefined,
    // The console is a single-page app: unknown paths serve index.html.
    errorPage: "redirect_to_index_page",
    cdk: {
      // The site's files only (no data): TLS only, versioned, access-logged like every other bucket of the app.
      bucket: {
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        versioned: true,
        encryption: s3.BucketEncryption.S3_MANAGED,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        serverAccessLogsBucket: storage.accessLogsBucket,
        serverAccessLogsPrefix: "console/",
      },
    },
  });
  suppressStaticSiteFindings(site, Boolean(auth.console.domain));

  stack.addOutputs({ ConsoleUrl: site.customDomainUrl ?? site.url ?? "" });
  return { site };
}

/**
 * cdk-nag findings on what SST v2's StaticSite builds and does not let us change, each with the reason it is
 * acceptable for a console of static, PHI-free files whose every data access goes through the authenticated API.
 */
function suppressStaticSiteFindings(site: StaticSite, customDomain: boolean): void {
  const bucket = site.cdk!.bucket;
  suppress(bucket, [
    {
      id: "HIPAA.Security-S3DefaultEncryptionKMS",
      reason:
        "SST v2's StaticSite reads the bucket through a CloudFront origin access identity, which cannot decrypt SSE-KMS objects; the files are the public console bundle (no data), encrypted with SSE-S3.",
    },
    {
      id: "HIPAA.Security-S3BucketReplicationEnabled",
      reason: "The bucket holds the console build only, re-uploaded from the repository on every deploy.",
    },
  ]);
  suppress(site, [
    {
      id: "AwsSolutions-CFR1",
      reason:
        "Operators sign in from wherever they are on call; access is controlled by Cognito, not geography.",
    },
    {
      id: "AwsSolutions-CFR2",
      reason:
        "The distribution serves static files only; the API it calls has its own throttling and JWT authorizer. A WAF web ACL (global, usually managed per organisation) can be attached later through cdk.distribution.webAclId.",
    },
    {
      id: "AwsSolutions-CFR3",
      reason:
        "Static, PHI-free files; every data access is logged by the API's access log. CloudFront standard logs need an ACL-enabled bucket, which the app's access-log bucket (bucket owner enforced) deliberately is not.",
    },
    {
      id: "AwsSolutions-CFR7",
      reason:
        "SST v2's StaticSite builds its S3 origin with an origin access identity (OAI); the bucket blocks all public access and only that identity may read it.",
    },
    ...(customDomain
      ? []
      : [
          {
            id: "AwsSolutions-CFR4",
            reason:
              "Without DRIFTWATCH_CONSOLE_DOMAIN (non-production stages only) the distribution uses CloudFront's default certificate, whose minimum TLS version cannot be set; with a custom domain CDK uses TLSv1.2_2021.",
          },
        ]),
  ]);
  // SST adds its deploy-time uploader and cache-invalidator policies at `app.finish()`:
  // `suppressPlatformResources` (constructs/nag.ts) covers them.
}
