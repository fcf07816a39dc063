/**
 * Build-time configuration from Vite env (set by stacks/Web.ts on AWS; all empty in local mode):
 * - VITE_API_URL: the HTTP API's base URL (empty → same origin, as in local mode).
 * - VITE_REGION, VITE_USER_POOL_ID, VITE_USER_POOL_CLIENT_ID: the stage's Cognito user pool and console app client.
 * - VITE_COGNITO_DOMAIN: the pool's hosted UI domain (e.g. https://driftwatch-prod.auth.eu-west-1.amazoncognito.com).
 * With no user pool configured the console signs in through the local runtime's GET /local/session.
 */
export interface ConsoleConfig {
  apiUrl: string;
  region: string;
  userPoolId: string;
  userPoolClientId: string;
  cognitoDomain: string;
}

const env = import.meta.env;

export const config: ConsoleConfig = {
  apiUrl: (env.VITE_API_URL ?? "").replace(/\/+$/, ""),
  region: env.VITE_REGION ?? "",
  userPoolId: env.VITE_USER_POOL_ID ?? "",
  userPoolClientId: env.VITE_USER_POOL_CLIENT_ID ?? "",
  cognitoDomain: (env.VITE_COGNITO_DOMAIN ?? "").replace(/\/+$/, ""),
};

export const usesCognito = (c: ConsoleConfig = config): boolean =>
  c.userPoolId !== "" && c.userPoolClientId !== "";
