import { Duration, aws_cognito as cognito } from "aws-cdk-lib";
import type { StackContext } from "sst/constructs";
import { isProductionStage } from "./constructs/app-defaults.ts";
import { consoleConfig } from "./constructs/console-config.ts";
import { suppress } from "./constructs/nag.ts";

/** Cognito groups; the API maps `cognito:groups` to roles (operators write, viewers read). */
export const OPERATOR_GROUP = "operators";
export const VIEWER_GROUP = "viewers";

/**
 * Auth: the stage's Cognito user pool (administrators create users and put them in `operators` or `viewers`; no
 * self sign-up), a strong password policy, optional TOTP MFA, and the console's app client: authorization code with
 * PKCE through the hosted UI, no client secret (a browser cannot keep one). ADRs 0800 (API auth), 0802 (sign-in).
 */
export function Auth({ app, stack }: StackContext) {
  const production = isProductionStage(app.stage);
  const consoleCfg = consoleConfig(app.stage);

  const userPool = new cognito.UserPool(stack, "UserPool", {
    userPoolName: app.logicalPrefixedName("users"),
    selfSignUpEnabled: false,
    signInAliases: { email: true },
    signInCaseSensitive: false,
    autoVerify: { email: true },
    standardAttributes: { email: { required: true, mutable: true } },
    passwordPolicy: {
      minLength: 14,
      requireLowercase: true,
      requireUppercase: true,
      requireDigits: true,
      requireSymbols: true,
      tempPasswordValidity: Duration.days(3),
    },
    mfa: cognito.Mfa.OPTIONAL,
    mfaSecondFactor: { otp: true, sms: false },
    accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
    deletionProtection: production,
  });
  suppress(userPool, [
    {
      id: "AwsSolutions-COG2",
      reason:
        "MFA is optional by decision (issue 9, ADR 0800): operators enable TOTP themselves; the pool has no self sign-up and a 14-character password policy.",
    },
    {
      id: "AwsSolutions-COG3",
      reason:
        "Cognito advanced security (threat protection) is a paid Plus-tier feature decided per organisation; the pool is invitation-only (no self sign-up), which removes the sign-up abuse it mainly guards against.",
    },
  ]);

  for (const [name, description, precedence] of [
    [OPERATOR_GROUP, "Read and write: thresholds, device registry, acknowledge and resolve incidents", 0],
    [VIEWER_GROUP, "Read only (and backtests)", 10],
  ] as const) {
    new cognito.CfnUserPoolGroup(stack, `${name[0]!.toUpperCase()}${name.slice(1)}Group`, {
      userPoolId: userPool.userPoolId,
      groupName: name,
      description,
      precedence,
    });
  }

  const domain = userPool.addDomain("HostedUi", {
    cognitoDomain: { domainPrefix: app.logicalPrefixedName("console").toLowerCase().slice(0, 63) },
  });

  const callbacks = consoleCfg.origins.map((origin) => `${origin}/`);
  const consoleClient = userPool.addClient("ConsoleClient", {
    userPoolClientName: "console",
    generateSecret: false,
    authFlows: { userSrp: true },
    oAuth: {
      flows: { authorizationCodeGrant: true },
      scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
      callbackUrls: callbacks,
      logoutUrls: callbacks,
    },
    supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
    preventUserExistenceErrors: true,
    enableTokenRevocation: true,
    accessTokenValidity: Duration.hours(1),
    idTokenValidity: Duration.hours(1),
    refreshTokenValidity: Duration.days(production ? 1 : 7),
  });

  stack.addOutputs({
    UserPoolId: userPool.userPoolId,
    UserPoolClientId: consoleClient.userPoolClientId,
    CognitoDomain: domain.baseUrl(),
  });

  return { userPool, consoleClient, domain, console: consoleCfg };
}
