import { startEscalationHarness } from "./escalation-harness.ts";

/**
 * Child process of `escalation-stop.integration.test.ts`: parks an execution on its acknowledgement (a 300 s tier
 * timeout), stops the service, and prints "stopped". The test asserts that the process then exits by itself: no
 * timer of the Step Functions runner may outlive `stop()`.
 */
const h = await startEscalationHarness({ ackTimeoutSeconds: 300 });
await h.start(h.alert("dev-stop"));
await h.waitFor("tier-1 notification", () => h.outbox().find((n) => n.tier === 1));
await h.waitFor("parked acknowledgement wait", () => h.service.tokens.waiting === 1 || undefined);
const name = [...h.service.engine["executions"].keys()][0] as string;
await h.stop();
process.stdout.write(`stopped ${h.service.engine.execution(name)?.status}\n`);
