import type { SSTConfig } from "sst";
import { APP_NAME, DEFAULT_REGION, configureApp } from "./stacks/constructs/app-defaults.ts";
import { Storage } from "./stacks/Storage.ts";
import { Ingest } from "./stacks/Ingest.ts";
import { Scoring } from "./stacks/Scoring.ts";
import { Escalation } from "./stacks/Escalation.ts";
import { Monitoring } from "./stacks/Monitoring.ts";
import { Auth } from "./stacks/Auth.ts";
import { Lake } from "./stacks/Lake.ts";
import { Api } from "./stacks/Api.ts";
import { Web } from "./stacks/Web.ts";

/**
 * Driftwatch SST v2 app. Stage defaults (removal policy, function runtime/arch/tracing/Powertools env) live in
 * `stacks/constructs/app-defaults.ts`, shared with the offline stack tests (`stacks/test/harness.ts`).
 */
export default {
  config(input) {
    return {
      name: APP_NAME,
      region: input.region ?? process.env.AWS_REGION ?? DEFAULT_REGION,
    };
  },
  stacks(app) {
    configureApp(app);
    // Order matters: later stacks `use()` earlier ones; Monitoring reads all of them.
    app
      .stack(Storage)
      .stack(Ingest)
      .stack(Escalation)
      .stack(Scoring)
      .stack(Auth)
      .stack(Lake)
      .stack(Api)
      .stack(Web)
      .stack(Monitoring);
  },
} satisfies SSTConfig;
