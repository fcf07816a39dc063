import { createAuthenticator, verifierFromEnv, type Authenticator } from "./shared/auth.ts";
import { createHttpApi, reply } from "./shared/http-api.ts";

/** `GET /api/me` → `{user, role}`: who the console is signed in as (operator or viewer). */
export function createMeHandler(authenticate: Authenticator) {
  return createHttpApi(
    [
      {
        method: "GET",
        path: "/api/me",
        handler: async ({ principal }) => reply(200, { user: principal.user, role: principal.role }),
      },
    ],
    authenticate,
  );
}

export const handler = createMeHandler(createAuthenticator(verifierFromEnv));
