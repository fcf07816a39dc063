import { isProductionStage } from "./app-defaults.ts";

/**
 * Where a stage's console lives, so the API's CORS origin and the pool client's sign-in callbacks name exactly it.
 * `DRIFTWATCH_CONSOLE_DOMAIN` (e.g. `console.driftwatch.example.com`) gives the StaticSite a custom domain (a
 * Route 53 hosted zone of that domain's parent, or `DRIFTWATCH_CONSOLE_HOSTED_ZONE`, must exist); production requires it. Without it a non-production
 * stage's console is reachable only from the Vite dev server (`http://localhost:5173`), which is also allowed in
 * every non-production stage. docs/deploy.md.
 */
export interface ConsoleConfig {
  /** Custom domain of the StaticSite, if any. */
  domain?: string;
  /**
   * Route 53 hosted zone that holds `domain`: `DRIFTWATCH_CONSOLE_HOSTED_ZONE`, else the domain's parent
   * (`console.driftwatch.example.com` → `driftwatch.example.com`).
   */
  hostedZone?: string;
  /** Allowed browser origins (CORS) and sign-in callback/logout URLs (with a trailing `/`). */
  origins: string[];
}

export const DEV_SERVER_ORIGIN = "http://localhost:5173";

export class ConsoleConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConsoleConfigError";
  }
}

export function consoleConfig(stage: string, env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const domain = env.DRIFTWATCH_CONSOLE_DOMAIN?.trim() || undefined;
  if (domain && !/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(domain))
    throw new ConsoleConfigError(`DRIFTWATCH_CONSOLE_DOMAIN "${domain}" is not a host name`);
  const production = isProductionStage(stage);
  if (production && !domain)
    throw new ConsoleConfigError(
      `stage "${stage}" needs DRIFTWATCH_CONSOLE_DOMAIN (the console's host name) for its CORS origin and sign-in callback`,
    );
  const origins = [...(domain ? [`https://${domain}`] : []), ...(production ? [] : [DEV_SERVER_ORIGIN])];
  const hostedZone = domain ? env.DRIFTWATCH_CONSOLE_HOSTED_ZONE?.trim() || parentDomain(domain) : undefined;
  return { domain, hostedZone, origins };
}

/** `a.b.c` → `b.c`; a two-label domain is its own zone. */
function parentDomain(domain: string): string {
  const labels = domain.split(".");
  return labels.length > 2 ? labels.slice(1).join(".") : domain;
}
