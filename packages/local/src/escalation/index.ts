import path from "node:path";
import { createAckLinkSigner } from "@driftwatch/core/escalation/ack-link";
import type { Notifier } from "@driftwatch/core/ports/notifier";
import { systemClock, type Clock } from "@driftwatch/core/ports/clock";
import { ConfigurationError } from "@driftwatch/core/shared/errors";
import { createDynamoIncidentStore } from "@driftwatch/functions/adapters/dynamo-incident-store";
import { createDynamoNonceStore } from "@driftwatch/functions/adapters/dynamo-nonce-store";
import { createAckHandler } from "@driftwatch/functions/http/ack";
import { tables } from "@driftwatch/functions/shared/tables";
import { createAwaitAckHandler } from "@driftwatch/functions/stepfunctions/await-ack";
import { createCheckQuietHandler } from "@driftwatch/functions/stepfunctions/check-quiet";
import type { EscalationDeps } from "@driftwatch/functions/stepfunctions/deps";
import { createNotifyHandler } from "@driftwatch/functions/stepfunctions/notify";
import { createOpenIncidentHandler } from "@driftwatch/functions/stepfunctions/open-incident";
import { createRecordEventHandler } from "@driftwatch/functions/stepfunctions/record-event";
import { createResolvePolicyHandler } from "@driftwatch/functions/stepfunctions/resolve-policy";
import type { LocalContext, LocalService } from "../runtime/context.ts";
import type { HttpRequest } from "../runtime/http-router.ts";
import { createLambdaContext } from "../runtime/lambda-context.ts";
import { loadOrCreateKey } from "../storage/key-files.ts";
import { synthesizeEscalationDefinition, type TaskFunctionKey } from "./definition.ts";
import { fromApiResult, toApiEvent } from "../runtime/lambda-http.ts";
import { LocalEscalationEngine, executionNamesFile, type TaskHandler } from "./local-escalation-engine.ts";
import { fallbackPolicy, localPolicySettings } from "./local-policy.ts";
import { LocalTaskTokens } from "./local-task-tokens.ts";
import { createOutboxNotifier } from "./outbox-notifier.ts";

export interface EscalationServiceOptions {
  /** Wraps the outbox notifier (tests inject failing channels). */
  wrapNotifier?: (outbox: Notifier) => Notifier;
  /** Tests only: fixed retry interval (ms) instead of the definition's backoff. */
  retryIntervalMs?: number;
  clock?: Clock;
  /** Acknowledgement link lifetime (default 24 h). */
  ackLinkTtlSeconds?: number;
}

export interface LocalEscalationService extends LocalService {
  engine: LocalEscalationEngine;
  tokens: LocalTaskTokens;
  outboxDir: string;
}

/**
 * Local escalation: runs the state machine that the CDK construct synthesizes (aws-local-stepfunctions) with the
 * same task handlers as the Lambdas, on dynalite (incidents, used link nonces) with an outbox notifier
 * (`$DATA_DIR/outbox/`). Publishes `context.escalationStarter` and `context.incidents`; serves `/ack` (GET/POST).
 * Status counters `escalation.incidents` and `escalation.notifications`.
 */
export async function startEscalation(
  context: LocalContext,
  options: EscalationServiceOptions = {},
): Promise<LocalEscalationService> {
  const { config } = context;
  const storage = context.storage;
  if (!storage)
    throw new ConfigurationError("the escalation service needs the storage service (context.storage)");
  const incidentsTable = storage.tableNames[tables.incidents.envVar];
  const noncesTable = storage.tableNames[tables.ackNonces.envVar];
  if (!incidentsTable || !noncesTable) {
    throw new ConfigurationError("storage did not create the escalation tables (Incidents, AckNonces)");
  }
  const clock = options.clock ?? systemClock;
  const store = createDynamoIncidentStore(storage.dynamo, incidentsTable);
  const nonces = createDynamoNonceStore(storage.dynamo, noncesTable);
  const tokens = new LocalTaskTokens();
  const outboxDir = path.join(config.dataDir, "outbox");
  const outbox = createOutboxNotifier(outboxDir, (n, file) => {
    context.status.inc("escalation.notifications");
    context.log(
      "escalation",
      `notified ${n.incidentId} tier ${n.tier} round ${n.round} via ${n.channel} → ${path.basename(file)}`,
    );
  });
  const notifier = options.wrapNotifier ? options.wrapNotifier(outbox) : outbox;
  // Every channel kind goes to the outbox locally (no SNS, no outbound webhooks offline).
  const routed: Notifier = { send: (n) => notifier.send(n) };
  const signer = createAckLinkSigner({
    keys: [loadOrCreateKey(storage.keysDir, "ack-link")],
    ttlSeconds: options.ackLinkTtlSeconds ?? 24 * 3600,
  });
  const policy = localPolicySettings(config.ackTimeoutSeconds);
  const deps = async (): Promise<EscalationDeps> => ({
    store,
    clock,
    tokens,
    notifier: routed,
    signer,
    nonces,
    catalogue: policy.catalogue,
    overrides: { ackTimeoutSeconds: policy.ackTimeoutSeconds, quietSeconds: policy.quietSeconds },
    // Read per call: with HTTP_PORT=0 the bound port is known only after the server listens.
    ackBaseUrl: `http://${config.host}:${config.httpPort}/ack`,
  });

  const handlers: Record<TaskFunctionKey, TaskHandler> = {
    openIncident: createOpenIncidentHandler(deps),
    resolvePolicy: createResolvePolicyHandler(deps),
    notify: createNotifyHandler(deps),
    awaitAck: createAwaitAckHandler(deps),
    recordEvent: createRecordEventHandler(deps),
    checkQuiet: createCheckQuietHandler(deps),
  };
  const escalation = synthesizeEscalationDefinition(fallbackPolicy(policy));
  const engine = new LocalEscalationEngine({
    escalation,
    handlers,
    tokens,
    namesFile: executionNamesFile(config.dataDir),
    retryIntervalMs: options.retryIntervalMs,
    log: (message) => context.log("escalation", message),
    onTaskResult: (key, result) => {
      if (key === "openIncident" && (result as { action?: string })?.action === "opened")
        context.status.inc("escalation.incidents");
    },
  });
  context.escalationStarter = engine;

  const ack = createAckHandler(deps);
  const lambdaContext = (name: string) =>
    createLambdaContext({ functionName: `driftwatch-local-${name}`, timeoutMs: 30_000 });
  const ackRoute = async (req: HttpRequest) =>
    fromApiResult(await ack(toApiEvent(req, `${req.method} /ack`), lambdaContext("ack")));
  context.http.add("GET", "/ack", ackRoute);
  context.http.add("POST", "/ack", ackRoute);
  // The incidents API (`/api/incidents…`) is the incidents Lambda handler, mounted by runtime/api-routes.ts.
  context.incidents = { store, tokens };

  context.log(
    "escalation",
    `state machine synthesized (${Object.keys(escalation.definition.States).length} states); ack timeout ${policy.ackTimeoutSeconds}s; outbox ${outboxDir}`,
  );
  return {
    name: "escalation",
    engine,
    tokens,
    outboxDir,
    stop: async () => {
      await engine.stop();
      if (context.escalationStarter === engine) context.escalationStarter = undefined;
    },
  };
}
